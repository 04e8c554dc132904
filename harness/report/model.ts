/** What every reporter renders: one run's results with their support answers. */
import type { CellResult, SupportAnswer } from "../run/index.js";
import { supportAnswers } from "../run/index.js";

export interface RunReport {
  matrix: { name: string; file: string };
  /** The backend kind asked for (`recorded`, `sandbox`, ...). */
  backend: string;
  results: CellResult[];
  support: SupportAnswer[];
  /** Golden files no cell of the matrix produces (project-relative). */
  obsoleteGoldens: string[];
}

export function makeReport(matrix: { name: string; file: string }, backend: string, results: CellResult[], obsoleteGoldens: string[] = []): RunReport {
  return { matrix, backend, results, support: supportAnswers(results), obsoleteGoldens };
}

export interface RunCounts {
  cells: number;
  live: number;
  sandbox: number;
  container: number;
  /** Cells replayed from recordings by a replay server in a container (container backend without a Xen tree). */
  containerReplayed: number;
  replayed: number;
  skipped: number;
  errors: number;
  pass: number;
  fail: number;
  xfail: number;
  xpass: number;
  skip: number;
}

export function countRun(results: CellResult[]): RunCounts {
  const c: RunCounts = { cells: results.length, live: 0, sandbox: 0, container: 0, containerReplayed: 0, replayed: 0, skipped: 0, errors: 0, pass: 0, fail: 0, xfail: 0, xpass: 0, skip: 0 };
  for (const r of results) {
    c[r.outcome]++;
    if (r.verdict === "skipped") c.skipped++;
    else if (r.verdict === "error") c.errors++;
    else if (r.backend === "live") c.live++;
    else if (r.backend === "sandbox") c.sandbox++;
    else if (r.backend === "container" && r.replayed) c.containerReplayed++;
    else if (r.backend === "container") c.container++;
    else if (r.backend === "recorded") c.replayed++;
  }
  return c;
}

/** The one line a run ends with: where cells really ran, so a green run cannot hide that nothing did. */
export function summaryLine(results: CellResult[]): string {
  const c = countRun(results);
  return (
    `${c.cells} cell${c.cells === 1 ? "" : "s"}: ${c.live} ran live, ${c.sandbox} in a sandbox, ${c.container} in a container, ` +
    (c.containerReplayed ? `${c.containerReplayed} replayed (in a container), ` : "") +
    `${c.replayed} replayed, ` +
    `${c.skipped} skipped, ${c.errors} error${c.errors === 1 ? "" : "s"} | outcomes: ${c.pass} pass, ${c.xfail} xfail, ${c.xpass} xpass, ${c.fail} fail, ${c.skip} skip`
  );
}
