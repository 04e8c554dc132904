/** `xend-compat merge F1.json F2.json ...`: join the JSON reports of sharded runs into one report. */
import * as path from "node:path";
import type { Command, CliIO } from "./types.js";
import { HarnessError } from "../errors.js";
import { oneLine } from "../terminal.js";
import { readTextFile, writeFileAtomic } from "../fsutil.js";
import { render, REPORTER_NAMES, summaryLine } from "../report/index.js";
import { asExpected } from "../run/index.js";
import { mergeShards, readShardReport } from "../shard/index.js";
import { parseCommandArgs } from "./args.js";
import { useColor } from "./common.js";

const HELP = `usage: xend-compat merge F1.json F2.json ... [--reporter table|json|junit|markdown|html] [--out F]

Joins the JSON reports of a sharded run ('xend-compat run --shard I/N --reporter json --out Fi.json',
one per I in 1..N, e.g. on parallel CI jobs) into the report the unsharded run would have given:
the cells in the run's order, the support answers recomputed from them, rendered by any reporter.

The shards must belong together, or nothing is written and the exit code is 2: the same
xend-compat version, the same matrix (name and file content), the same selection of cells (same
--xend/--libvirt/--scenario), the same N and backend; every shard 1..N exactly once; each holding
exactly the cells of its slice (no cell twice, none missing).

options:
  --reporter R   table (default), json, junit, markdown, html
  --out F        write the report to F (atomically) instead of standard output

exit codes: 0 every cell as expected, 1 some cell not as expected, 2 bad input or usage`;

export const command: Command = {
  name: "merge",
  summary: "join the JSON results of sharded runs into one report",
  help: HELP,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs("merge", argv, { reporter: { type: "string" }, out: { type: "string" } }, true);
    const reporter = values.reporter ?? "table";
    if (!(REPORTER_NAMES as readonly string[]).includes(reporter)) throw new HarnessError("input.usage", `--reporter '${reporter}': expected one of ${REPORTER_NAMES.join(", ")} (see 'xend-compat merge --help')`);
    if (!positionals.length) throw new HarnessError("input.usage", "merge needs the shards' JSON files, e.g. xend-compat merge shard-1.json shard-2.json (see 'xend-compat merge --help')");
    const shards = positionals.map((f) => {
      return readShardReport(f, readTextFile(path.resolve(io.cwd, f), "shard report", f));
    });
    const merged = mergeShards(shards);
    const results = merged.report.results;
    io.err(`merged ${merged.shards.length} shard(s): ${merged.shards.join(", ")}`);
    const text = await render(reporter, merged.report, { width: 80, color: reporter === "table" && !values.out && useColor(io) });
    if (values.out) {
      try {
        writeFileAtomic(path.resolve(io.cwd, values.out), text);
      } catch (e) {
        throw new HarnessError("input.file", `--out ${oneLine(values.out)}: ${(e as Error).message}`, { cause: e });
      }
      io.out(`report written to ${values.out}`);
      io.out(summaryLine(results));
    } else {
      io.out(text.replace(/\n$/, ""));
      if (reporter !== "table") io.err(summaryLine(results));
    }
    return results.every((r) => asExpected(r.outcome)) ? 0 : 1;
  },
};
