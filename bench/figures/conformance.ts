/**
 * The conformance figure: `node bin/xend-compat.mjs conformance --all` (every shipped release suite,
 * fixtures/libvirt-tests/releases/, through the profile of its own release) as a new process, the
 * way a user or CI runs it (dist/ as built by the cold figure or `npm ci`); median of a few runs;
 * target under 30 s (issue 16).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { projectRoot } from "../../harness/matrix/index.js";
import type { Figure } from "../report.js";
import { fmtMs, median } from "../stats.js";

export async function conformanceFigure(o: { quick: boolean }): Promise<Figure> {
  const root = projectRoot();
  const bin = path.join(root, "bin", "xend-compat.mjs");
  if (!existsSync(path.join(root, "fixtures", "libvirt-tests", "releases"))) return { id: "conformance", skipped: "no shipped release suites (fixtures/libvirt-tests/releases)" };
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.CI;
  const reps = o.quick ? 1 : 3;
  const ms: number[] = [];
  let last = "";
  let exit: number | null = null;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const p = spawnSync(process.execPath, [bin, "conformance", "--all"], { cwd: root, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    ms.push(performance.now() - t0);
    exit = p.status;
    last = (p.stdout ?? "").trim().split("\n").pop() ?? (p.stderr ?? "").trim().split("\n").pop() ?? "";
  }
  const wall = median(ms);
  const met = wall < 30_000 && exit === 0;
  return {
    id: "conformance",
    line: `conformance --all (every shipped release suite, new process): ${fmtMs(wall)} wall | target < 30 s: ${met ? "met" : "missed"} | exit ${exit}; ${last} | median of ${reps}`,
    data: { wallMs: wall, samples: ms, exit, summary: last, targetMet: met, reps },
  };
}
