/**
 * A workload to profile on its own: `npx tsx bench/profile.ts WHAT [factor] [reps] [OUT.cpuprofile]`
 * (the CPU profile covers only the timed loop, not the setup such as writing temporary goldens):
 *   replay  the default matrix repeated `factor` times (default 48), `reps` times with an empty
 *           recording cache each, against goldens first written to a temporary directory (as the
 *           bench does, so every golden is compared, none is missing)
 *   run     the `run` flow (execute(): matrix load, expansion, replay, goldens of fixtures/golden,
 *           obsolete-golden scan) of the default matrix, `factor` times (default 20)
 *   floor   only reads and parses the files the enlarged replay consumes
 * Summarise a profile with bench/profile-summary.ts.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { execute } from "../harness/run/index.js";
import { fromRoot, GOLDEN_DIR, RECORDINGS_DIR } from "../harness/matrix/index.js";
import { defaultMatrix, enlarge, floor, floorFiles, freshProcessState, makeGoldens, replay } from "./workload.js";

const [what = "replay", f, r = "3", out] = process.argv.slice(2);
if (!["replay", "run", "floor"].includes(what)) throw new Error(`unknown workload '${what}' (replay, run, floor)`);
const rec = fromRoot(RECORDINGS_DIR);
const gold = fromRoot(GOLDEN_DIR);
const { cells } = defaultMatrix();
const factor = Number(f ?? (what === "run" ? "20" : "48"));
const e = enlarge(cells, what === "run" ? 1 : factor);
const tmp = what === "run" ? null : await makeGoldens(e.cells, rec);
const reps = what === "run" ? factor : Number(r);
const session = out ? new Session() : null;
if (session) {
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
}
const c0 = process.cpuUsage();
const t0 = performance.now();
try {
  for (let i = 0; i < reps; i++) {
    freshProcessState();
    if (what === "replay") await replay(e.cells, rec, tmp!.dir);
    else if (what === "run") await execute({ cwd: process.cwd(), env: {}, golden: { update: false }, recordingsDir: rec, goldenDir: gold });
    else await floor(floorFiles(e.cells, rec, tmp!.dir));
  }
} finally {
  if (!session) tmp?.dispose();
}
const ms = performance.now() - t0;
const c = process.cpuUsage(c0);
if (session) {
  const { profile } = await session.post("Profiler.stop");
  writeFileSync(out!, JSON.stringify(profile));
  session.disconnect();
  tmp?.dispose();
}
const cpu = (c.user + c.system) / 1000;
const n = e.cells.length * reps;
process.stdout.write(`${what}: ${e.cells.length} cells × ${reps} in ${ms.toFixed(0)} ms = ${((n / ms) * 1000).toFixed(0)} cells/s wall; cpu ${cpu.toFixed(0)} ms = ${((n / cpu) * 1000).toFixed(0)} cells per CPU-second\n`);
