/**
 * `--reporter` as run, merge and report take it: repeatable, each optionally with a destination
 * (`--reporter junit=out.xml --reporter html=report.html --reporter table`), so that one run gives CI
 * its JUnit file, its HTML artifact and the table in the log. At most one reporter goes to standard
 * output; `--out F` is the destination of the one reporter named without its own.
 */
import * as path from "node:path";
import { HarnessError } from "../errors.js";
import { oneLine } from "../terminal.js";
import { writeFileAtomic } from "../fsutil.js";
import { render, REPORTER_NAMES, summaryLine, type RunReport } from "../report/index.js";
import type { CellResult } from "../run/index.js";
import { useColor } from "./common.js";
import type { CliIO } from "./types.js";

export interface ReporterTarget {
  name: string;
  /** The file as the user wrote it; undefined: standard output. */
  dest?: string;
  /** The file came from --out (for messages). */
  viaOut?: boolean;
}

/** Parse the `--reporter` values (and `--out`) of one command line; usage errors name the argument. */
export function parseReporters(command: string, values: string[] | undefined, out: string | undefined): ReporterTarget[] {
  const given = values?.length ? values : ["table"];
  const targets = given.map((v): ReporterTarget => {
    const eq = v.indexOf("=");
    const name = eq < 0 ? v : v.slice(0, eq);
    const dest = eq < 0 ? undefined : v.slice(eq + 1);
    if (!(REPORTER_NAMES as readonly string[]).includes(name))
      throw new HarnessError("input.usage", `--reporter '${v}': expected one of ${REPORTER_NAMES.join(", ")}, optionally with =FILE (see 'xend-compat ${command} --help')`);
    if (dest !== undefined && !dest) throw new HarnessError("input.usage", `--reporter '${v}': the file after '=' is empty`);
    return { name, ...(dest !== undefined ? { dest } : {}) };
  });
  const toStdout = targets.filter((t) => t.dest === undefined);
  if (out !== undefined) {
    if (toStdout.length !== 1) throw new HarnessError("input.usage", `--out ${out}: it names the file of the one reporter given without '=FILE' (here ${toStdout.length})`);
    toStdout[0].dest = out;
    toStdout[0].viaOut = true;
  } else if (toStdout.length > 1) {
    throw new HarnessError("input.usage", `--reporter: ${toStdout.map((t) => t.name).join(" and ")} would both go to standard output; give all but one a file (--reporter NAME=FILE)`);
  }
  const seen = new Map<string, string>();
  for (const t of targets) {
    if (t.dest === undefined) continue;
    const prev = seen.get(t.dest);
    if (prev) throw new HarnessError("input.usage", `--reporter: ${prev} and ${t.name} would both write ${t.dest}`);
    seen.set(t.dest, t.name);
  }
  return targets;
}

/**
 * Render and deliver every target: files atomically (write errors are exit 2 naming the file), the one
 * standard-output reporter last. The summary line goes to stdout after a table, to stderr otherwise.
 * `transform` may rewrite a reporter's text (run --shard adds its shard info to json).
 */
export async function emitReports(
  report: RunReport,
  targets: ReporterTarget[],
  io: CliIO,
  transform: (name: string, text: string) => string = (_n, t) => t,
): Promise<void> {
  const results: CellResult[] = report.results;
  // Where "written to" lines go: stdout when no report takes it, else stderr (stdout stays one report).
  const note = targets.some((t) => t.dest === undefined) ? io.err : io.out;
  let stdout: { name: string; text: string } | undefined;
  for (const t of targets) {
    const text = transform(t.name, await render(t.name, report, { width: 80, color: t.name === "table" && t.dest === undefined && useColor(io) }));
    if (t.dest === undefined) {
      stdout = { name: t.name, text };
      continue;
    }
    try {
      writeFileAtomic(path.resolve(io.cwd, t.dest), text);
    } catch (e) {
      // Name the argument that chose the file (writeFileAtomic names the path and what failed).
      const arg = t.viaOut ? `--out ${oneLine(t.dest)}` : `--reporter ${t.name}=${oneLine(t.dest)}`;
      throw new HarnessError(e instanceof HarnessError ? e.code : "input.file", `${arg}: ${(e as Error).message}`, { cause: e });
    }
    note(`${t.name} report written to ${t.dest}`);
  }
  if (stdout) {
    io.out(stdout.text.replace(/\n$/, ""));
    if (stdout.name !== "table") io.err(summaryLine(results));
  } else {
    io.out(summaryLine(results));
  }
}
