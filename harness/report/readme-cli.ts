/**
 * Refresh (or, with --check, verify) README.md's generated blocks from replays of the default and full matrices
 * and of matrices/releases.yaml (the release table, grouped by identical answers):
 *   npx tsx harness/report/readme-cli.ts [--check]
 *   node dist/harness/report/readme-cli.js [--check]
 * Exit 0 up to date / refreshed, 1 out of date (--check), 2 no recordings or bad README.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../fsutil.js";
import * as path from "node:path";
import { fromRoot, loadResolvableMatrix, projectRoot } from "../matrix/index.js";
import { execute, supportAnswers } from "../run/index.js";
import { makeReport } from "./model.js";
import { refreshReadme } from "./readme.js";

export async function readmeStatus(): Promise<{ current: string; fresh: string; file: string; errors: number }> {
  const file = path.join(projectRoot(), "README.md");
  const ex = await execute({ cwd: projectRoot(), env: {} });
  const report = makeReport({ name: ex.matrix.name, file: "matrices/default.yaml" }, ex.backend, ex.results);
  const fx = await execute({ cwd: projectRoot(), env: {}, matrix: path.join(projectRoot(), "matrices", "full.yaml") });
  const full = makeReport({ name: fx.matrix.name, file: "matrices/full.yaml" }, fx.backend, fx.results);
  // every release (matrices/releases.yaml), grouped; releases that resolve to no profile yet are named, not run
  const { matrix, unresolved } = loadResolvableMatrix(fromRoot("matrices/releases.yaml"), { displayName: "matrices/releases.yaml" });
  const rel = await execute({ cwd: projectRoot(), env: {}, loaded: matrix });
  const current = readFileSync(file, "utf8");
  const releases = { answers: supportAnswers(rel.results), cells: rel.results.length, unresolved };
  const errors = [...ex.results, ...fx.results, ...rel.results].filter((r) => r.verdict === "error").length;
  return { current, fresh: refreshReadme(current, report, full, releases), file, errors };
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes("--check");
  const s = await readmeStatus();
  if (s.errors) {
    process.stderr.write(`readme: ${s.errors} cell(s) of the default or releases matrix could not be replayed (missing recordings?); not touching README.md\n`);
    return 2;
  }
  if (s.current === s.fresh) {
    process.stdout.write("README.md generated blocks are up to date\n");
    return 0;
  }
  if (check) {
    process.stderr.write("README.md generated blocks are out of date: run npx tsx harness/report/readme-cli.ts\n");
    return 1;
  }
  writeFileAtomic(s.file, s.fresh);
  process.stdout.write("README.md generated blocks refreshed\n");
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]).replace(/\.[cm]?[jt]s$/, "") === path.resolve(new URL(import.meta.url).pathname).replace(/\.[cm]?[jt]s$/, "")) {
  main(process.argv.slice(2)).then((c) => (process.exitCode = c));
}
