/** `xend-compat report RESULTS.json --reporter R[=FILE]...`: render a run's JSON results again. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { Command, CliIO } from "./types.js";
import { HarnessError } from "../errors.js";
import { asExpected } from "../run/index.js";
import { readRunReport } from "../shard/index.js";
import { parseCommandArgs } from "./args.js";
import { emitReports, parseReporters } from "./reporters.js";

const HELP = `usage: xend-compat report RESULTS.json [--reporter R[=FILE]]... [--out F]

Renders the JSON results of a run ('xend-compat run --reporter json=results.json', or of 'merge')
again, with any reporter, without running anything: e.g. the HTML page for a CI artifact and the
JUnit file for the test tab, from the results a job kept.

options:
  --reporter R[=F]   table (default), json, junit, markdown, html; repeatable, each with its own
                     file (at most one to standard output)
  --out F            write the report given without =FILE to F

exit codes: 0 every cell was as expected, 1 some cell was not, 2 bad input or usage`;

export const command: Command = {
  name: "report",
  summary: "render a run's JSON results again with other reporters",
  help: HELP,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs("report", argv, { reporter: { type: "string", multiple: true }, out: { type: "string" } }, true);
    if (positionals.length !== 1) throw new HarnessError("input.usage", "report needs exactly one JSON results file, e.g. xend-compat report results.json --reporter html=report.html (see 'xend-compat report --help')");
    const targets = parseReporters("report", values.reporter, values.out);
    const file = positionals[0];
    let text: string;
    try {
      text = readFileSync(path.resolve(io.cwd, file), "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new HarnessError("input.file", `cannot read ${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a directory" : (e as Error).message}`);
    }
    const report = readRunReport(file, text);
    await emitReports(report, targets, io);
    return report.results.every((r) => asExpected(r.outcome)) ? 0 : 1;
  },
};
