/** `xend-compat run`: run the matrix, compare goldens, report; exit 0 all as expected, 1 not, 2 bad input. */
import * as path from "node:path";
import type { Command, CliIO } from "./types.js";
import { listCells, selectionOf, SELECTION_HELP, SELECTION_OPTIONS, stderrProgress } from "./common.js";
import { HarnessError } from "../errors.js";
import type { Cell } from "../matrix/index.js";
import { makeReport } from "../report/index.js";
import { emitReports, parseReporters } from "./reporters.js";
import { asExpected, execute, wholeNumber } from "../run/index.js";
import { parseCommandArgs } from "./args.js";
import { addShardToJson, parseShard, shardInfo, sliceCells } from "../shard/index.js";

const HELP = `usage: xend-compat run [--matrix F] [--backend B] [--recordings DIR] [--xend V] [--libvirt V]
                      [--scenario GLOB] [--list] [--reporter R[=FILE]]... [--out F] [--update-golden]
                      [--shard I/N] [--wire ours|native|auto]

Runs every cell (xend version × libvirt version × scenario) of a matrix: libvirt formats the
scenario's domain XML, the backend plays xend (define, start, guest steps, read back), libvirt
parses the answer; each cell gets a verdict (preserved, rejected, changed, error, skipped), which is
compared with the matrix's expectations and the cell's golden file.

options:
  --reporter R[=F]   table (default), json, junit, markdown, html (one self-contained page:
                     the libvirt × xend support grid, each cell opening its scenarios and stories);
                     repeatable, each with its own file: --reporter junit=out.xml
                     --reporter html=report.html --reporter table (at most one to stdout)
  --out F            write the report given without =FILE to F instead of standard output
  --update-golden    rewrite goldens that differ or are missing (refused under CI)
  --shard I/N        run only part I of N (1 ≤ I ≤ N): the selected cells sorted by id, cut into N
                     contiguous parts; join the parts' --reporter json files with 'xend-compat merge'

${SELECTION_HELP}
  Without a Xen tree, container replays the recordings in a container (a replay server, no real
  xend; counted as "replayed (in a container)").

live: domains go to xend as xc-<run id>-<xend>-<scenario>-<slug> (run id random per run, or
$XEND_COMPAT_LIVE_RUN_ID), each with a fresh uuid; only a domain that GET by its name shows with the uuid
this run gave it is ever started, destroyed or deleted. The xend must report exactly the version of
the cells (3.2 is 3.2.0, not 3.2.2). On SIGINT, SIGTERM or SIGHUP no define is sent any more, defines
under way are awaited, this run's domains are deleted and re-read; the last line says "cleanup done"
or names each domain that may be left (a second signal hurries, a third exits at once).

Cell ids are <xend>/<libvirt>/<scenario>, e.g. 4.1.2/0.9.11/hvm-utc (see 'xend-compat explain').
Under CI (environment variable CI set) goldens are never written and a missing golden fails;
with --update-golden, a golden that cannot be written is exit 2 naming the file.
NO_COLOR disables colour; colour is only used on a terminal.

exit codes: 0 every cell as expected, 1 some cell not as expected, 2 bad input or usage`;

export const command: Command = {
  name: "run",
  summary: "run the matrix: every cell's round trip, verdict and outcome",
  help: HELP,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseCommandArgs("run", argv, {
      ...SELECTION_OPTIONS,
      reporter: { type: "string", multiple: true },
      out: { type: "string" },
      "update-golden": { type: "boolean" },
      shard: { type: "string" },
    });
    const sel = selectionOf(values, io);
    if (values.list) return listCells(sel, io);
    const targets = parseReporters("run", values.reporter, values.out);
    const shard = values.shard !== undefined ? parseShard(values.shard) : null;
    let selection: string[] = [];
    const backend = sel.backend!;
    const progress = stderrProgress(io, backend);
    const ex = await execute({
      ...sel,
      golden: { update: Boolean(values["update-golden"]) },
      onProgress: progress.onProgress,
      ...(shard ? { select: (cells: Cell[]) => ((selection = cells.map((c) => c.id)), sliceCells(cells, shard)) } : {}),
    }).finally(progress.finish);
    const report = makeReport({ name: ex.matrix.name, file: path.relative(io.cwd, ex.matrix.file) || ex.matrix.file }, ex.backend, ex.results, ex.obsoleteGoldens);
    if (shard) io.err(`shard ${shard.index}/${shard.count}: ${ex.cells.length} of the ${selection.length} selected cells`);
    await emitReports(report, targets, io, (name, text) => (shard && name === "json" ? addShardToJson(text, shardInfo(shard, selection, ex.matrix.file)) : text));
    const written = ex.results.filter((r) => r.golden?.status === "written");
    if (written.length) io.err(`${written.length} golden file(s) written; review them with git diff fixtures/golden`);
    return ex.results.every((r) => asExpected(r.outcome)) ? 0 : 1;
  },
};
