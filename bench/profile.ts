/**
 * A workload to profile on its own: `node --cpu-prof --cpu-prof-dir DIR --import tsx bench/profile.ts
 * replay [factor] [reps]` replays the default matrix repeated `factor` times (default 48), `reps`
 * times with an empty recording cache each; `floor` only reads and parses the same files; `convert`
 * runs the conformance cases through the profiles. Summarise a profile with bench/profile-summary.ts.
 */
import { clearRecordingCache } from "../harness/xend/index.js";
import { fromRoot, GOLDEN_DIR, RECORDINGS_DIR } from "../harness/matrix/index.js";
import { defaultMatrix, enlarge, floor, floorFiles, replay } from "./workload.js";

const [what = "replay", f = "48", r = "3"] = process.argv.slice(2);
const { cells } = defaultMatrix();
const e = enlarge(cells, Number(f));
const rec = fromRoot(RECORDINGS_DIR);
const gold = fromRoot(GOLDEN_DIR);
const c0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < Number(r); i++) {
  clearRecordingCache();
  if (what === "replay") await replay(e.cells, rec, gold, e.alias);
  else if (what === "floor") await floor(floorFiles(e.cells, rec, gold, e.alias));
  else throw new Error(`unknown workload '${what}' (replay, floor)`);
}
const ms = performance.now() - t0;
const c = process.cpuUsage(c0);
const cpu = (c.user + c.system) / 1000;
process.stdout.write(`${what}: ${e.cells.length} cells × ${r} in ${ms.toFixed(0)} ms = ${((e.cells.length * Number(r)) / ms * 1000).toFixed(0)} cells/s wall; cpu ${cpu.toFixed(0)} ms = ${((e.cells.length * Number(r)) / cpu * 1000).toFixed(0)} cells per CPU-second\n`);
