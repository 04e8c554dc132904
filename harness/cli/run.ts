/** `xend-compat run`: run the matrix, compare goldens, report; exit 0 all as expected, 1 not, 2 bad input. */
import * as path from "node:path";
import type { Command, CliIO } from "./types.js";
import { listArg, stderrProgress } from "./common.js";
import { HarnessError } from "../errors.js";

import { DEFAULT_MATRIX, type Cell } from "../matrix/index.js";
import { makeReport } from "../report/index.js";
import { emitReports, parseReporters } from "./reporters.js";
import { asExpected, execute, wholeNumber } from "../run/index.js";
import { parseCommandArgs } from "./args.js";
import { addShardToJson, parseShard, shardInfo, sliceCells } from "../shard/index.js";

const HELP = `usage: xend-compat run [--matrix F] [--backend B] [--xend V] [--libvirt V] [--scenario GLOB]
                      [--reporter R[=FILE]]... [--out F] [--update-golden] [--shard I/N]

Runs every cell (xend version × libvirt version × scenario) of a matrix: libvirt formats the
scenario's domain XML, the backend plays xend (define, start, guest steps, read back), libvirt
parses the answer; each cell gets a verdict (preserved, rejected, changed, error, skipped), which is
compared with the matrix's expectations and the cell's golden file.

options:
  --matrix F         matrix file (default ${DEFAULT_MATRIX} of the package)
  --backend B        recorded (default: replay fixtures/recordings), sandbox, container, live
                     sandbox/container take the Xen tree from XEND_COMPAT_XEN_SRC_<V> (e.g. _4_1_2),
                     live the xend from XEND_COMPAT_LIVE_URL; without a tree, container replays
                     the recordings in a container (a replay server, no real xend; counted as
                     "replayed (in a container)"). A xend version the backend does not have (no
                     recordings, no tree, no live xend named, a live xend of another version) is
                     bad input before any cell runs, and a backend that cannot start stops the
                     run with its reason: exit 2 either way, also under CI (never skipped cells)
  --xend V           only this xend version (repeatable, or comma-separated)
  --libvirt V        only this libvirt version (repeatable, or comma-separated; any release a
                     profile covers, e.g. 0.9.12)
  --scenario GLOB    only scenarios whose id matches (e.g. 'hvm-*'; comma-separated globs: any)
  --reporter R[=F]   table (default), json, junit, markdown, html (one self-contained page:
                     the libvirt × xend support grid, each cell opening its scenarios and stories);
                     repeatable, each with its own file: --reporter junit=out.xml
                     --reporter html=report.html --reporter table (at most one to stdout)
  --out F            write the report given without =FILE to F instead of standard output
  --update-golden    rewrite goldens that differ or are missing (refused under CI)
  --shard I/N        run only part I of N (1 ≤ I ≤ N): the selected cells sorted by id, cut into N
                     contiguous parts; join the parts' --reporter json files with 'xend-compat merge'
  --recordings DIR   recorded, and container without a Xen tree: replay the recordings in DIR
                     (default fixtures/recordings)
  --url U            live: the xend, http://host:port or unix:///path (default $XEND_COMPAT_LIVE_URL)
  --timeout-ms N     per-request deadline for a real xend (default $XEND_COMPAT_TIMEOUT_MS, else 30000)
  --retries N        live: retries of a GET after a transport fault, 0-10 (default $XEND_COMPAT_RETRIES,
                     else 2); nothing but GETs is ever retried

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
      matrix: { type: "string" },
      backend: { type: "string" },
      xend: { type: "string", multiple: true },
      libvirt: { type: "string", multiple: true },
      scenario: { type: "string" },
      reporter: { type: "string", multiple: true },
      out: { type: "string" },
      "update-golden": { type: "boolean" },
      shard: { type: "string" },
      url: { type: "string" },
      "timeout-ms": { type: "string" },
      retries: { type: "string" },
      recordings: { type: "string" },
    });
    const targets = parseReporters("run", values.reporter, values.out);
    const shard = values.shard !== undefined ? parseShard(values.shard) : null;
    let selection: string[] = [];
    const backend = values.backend ?? "recorded";
    const timeoutMs = wholeNumber("--timeout-ms", values["timeout-ms"], 1, 3_600_000);
    const retries = wholeNumber("--retries", values.retries, 0, 10);
    if (values.recordings !== undefined && backend !== "recorded") throw new HarnessError("input.usage", `--recordings is only for --backend recorded (got --backend ${backend})`);
    if (values.url !== undefined && backend !== "live") throw new HarnessError("input.usage", `--url is only for --backend live (got --backend ${backend})`);
    const progress = stderrProgress(io, backend);
    const ex = await execute({
      matrix: values.matrix,
      backend,
      xend: listArg(values.xend),
      libvirt: listArg(values.libvirt),
      scenario: values.scenario,
      cwd: io.cwd,
      env: io.env,
      golden: { update: Boolean(values["update-golden"]) },
      onProgress: progress.onProgress,
      ...(shard ? { select: (cells: Cell[]) => ((selection = cells.map((c) => c.id)), sliceCells(cells, shard)) } : {}),
      ...(values.recordings !== undefined ? { recordingsDir: path.resolve(io.cwd, values.recordings) } : {}),
      backendSettings: {
        ...(values.url !== undefined ? { url: values.url } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(retries !== undefined ? { retries } : {}),
        log: (line: string) => io.err(line),
      },
    });
    progress.finish();
    const report = makeReport({ name: ex.matrix.name, file: path.relative(io.cwd, ex.matrix.file) || ex.matrix.file }, ex.backend, ex.results, ex.obsoleteGoldens);
    if (shard) io.err(`shard ${shard.index}/${shard.count}: ${ex.cells.length} of the ${selection.length} selected cells`);
    await emitReports(report, targets, io, (name, text) => (shard && name === "json" ? addShardToJson(text, shardInfo(shard, selection, ex.matrix.file)) : text));
    const written = ex.results.filter((r) => r.golden?.status === "written");
    if (written.length) io.err(`${written.length} golden file(s) written; review them with git diff fixtures/golden`);
    return ex.results.every((r) => asExpected(r.outcome)) ? 0 : 1;
  },
};
