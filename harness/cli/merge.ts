/** `xend-compat merge F1.json F2.json ...`: join the JSON reports of sharded runs into one report. */
import * as path from "node:path";
import type { Command, CliIO } from "./types.js";
import { HarnessError } from "../errors.js";
import { readTextFile } from "../fsutil.js";
import { asExpected } from "../run/index.js";
import { mergeShards, readShardReport } from "../shard/index.js";
import { parseCommandArgs } from "./args.js";
import { emitReports, parseReporters } from "./reporters.js";

const HELP = `usage: xend-compat merge F1.json F2.json ... [--reporter R[=FILE]]... [--out F]

Joins the JSON reports of a sharded run ('xend-compat run --shard I/N --reporter json --out Fi.json',
one per I in 1..N, e.g. on parallel CI jobs) into the report the unsharded run would have given:
the cells in the run's order, the support answers recomputed from them, rendered by any reporter.

The shards must belong together, or nothing is written and the exit code is 2: the same
xend-compat version, the same matrix (name and file content), the same selection of cells (same
--xend/--libvirt/--scenario), the same N and backend; every shard 1..N exactly once; each holding
exactly the cells of its slice (no cell twice, none missing).

options:
  --reporter R[=F]  table (default), json, junit, markdown, html; repeatable, each with its own
                    file (at most one to standard output)
  --out F           write the report given without =FILE to F (atomically)

exit codes: 0 every cell as expected, 1 some cell not as expected, 2 bad input or usage`;

export const command: Command = {
  name: "merge",
  summary: "join the JSON results of sharded runs into one report",
  help: HELP,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs("merge", argv, { reporter: { type: "string", multiple: true }, out: { type: "string" } }, true);
    const targets = parseReporters("merge", values.reporter, values.out);
    if (!positionals.length) throw new HarnessError("input.usage", "merge needs the shards' JSON files, e.g. xend-compat merge shard-1.json shard-2.json (see 'xend-compat merge --help')");
    const shards = positionals.map((f) => {
      return readShardReport(f, readTextFile(path.resolve(io.cwd, f), "shard report", f));
    });
    const merged = mergeShards(shards);
    const results = merged.report.results;
    io.err(`merged ${merged.shards.length} shard(s): ${merged.shards.join(", ")}`);
    await emitReports(merged.report, targets, io);
    return results.every((r) => asExpected(r.outcome)) ? 0 : 1;
  },
};
