/**
 * `xend-compat record`: run the matrix's cells of one xend version against a real xend (sandbox,
 * container or live), through the recording wrapper, and write one recording per completed cell
 * (atomically, secrets redacted). A cell that failed (verdict error or skipped, or any backend fault
 * during its session) writes nothing and is reported. Refuses to run when `CI` is set.
 */
import { oneLine } from "../terminal.js";
import * as path from "node:path";
import type { Command, CliIO } from "./types.js";
import { findProjectConfig, refuseNodeModules } from "../config/index.js";
import { loadMatrixFor } from "../run/index.js";
import { VERSION } from "../version.js";
import { HarnessError } from "../errors.js";
import { parseCommandArgs } from "./args.js";
import { loadMatrix, expandCells, fromRoot, DEFAULT_MATRIX, RECORDINGS_DIR } from "../matrix/index.js";
import { runCells, isCI, wholeNumber, NOT_THROUGH_XEND, liveRunId } from "../run/index.js";
import type { CellResult } from "../run/index.js";
import type { Cell } from "../matrix/index.js";
import { createBackend, parseTarget, RecordingBackend, writeRecording, type BackendSpec, type Backend } from "../xend/index.js";

const HELP = `usage: xend-compat record --backend sandbox|container|live --xend V [options]

Runs the matrix's cells for one xend version against a real xend and writes one recording per
completed cell to <out>/<xend>/<libvirt>/<scenario>.yaml (atomically; secrets redacted). A cell
that fails writes nothing and is reported. Refuses to write when the CI environment variable is set.

options:
  --backend B       sandbox (real xend from a Xen source tree), container, or live
  --xend V          the xend version being recorded (e.g. 4.1.2, 3.4.3, 3.2)
  --xen-src DIR     sandbox/container: the Xen source tree (only tools/python is used), or V=DIR;
                    default: $XEND_COMPAT_XEN_SRC_<V with _ for .>, e.g. XEND_COMPAT_XEN_SRC_4_1_2
  --url U           live: http://host:port or unix:///path
  --matrix F        the matrix file (default ${DEFAULT_MATRIX})
  --libvirt V       only this libvirt version (default: the matrix's)
  --scenario GLOB   only scenarios whose id matches (comma-separated globs: any of them)
  --out DIR         where recordings go (default ${RECORDINGS_DIR})
  --timeout-ms N    per-request deadline for the real xend (default $XEND_COMPAT_TIMEOUT_MS, else 30000)
  --retries N       live: retries of a GET after a transport fault, 0-10 (default $XEND_COMPAT_RETRIES,
                    else 2); nothing but GETs is ever retried

live: domains go to xend as xc-<run id>-<xend>-<scenario>-<slug> with fresh uuids and are written into
the recordings under the runner's names (xc-<scenario>-<slug>); only a domain that GET by its name
shows with this run's uuid is ever deleted; the xend must report exactly --xend's version. SIGINT,
SIGTERM and SIGHUP stop new defines and clean up as in 'xend-compat run --help'.

exit codes: 0 every cell recorded, 1 some cell failed (nothing written for it), 2 bad usage or CI set`;

const REAL_BACKENDS = new Set(["sandbox", "container", "live"]);

function usage(msg: string): HarnessError {
  return new HarnessError("input.usage", `${msg} (see 'xend-compat record --help')`);
}

/** Whether a finished cell may be written: it ran to its end, with no harness or backend fault. */
export function recordable(result: CellResult): { ok: true } | { ok: false; why: string } {
  if (result.verdict === "error") return { ok: false, why: `cell error: ${result.reason}` };
  // A cell whose libvirt would not define through xend (xend_config_format < 3) ran for real as far
  // as libvirt goes (GET /xend/node/): its recording is what replay needs to give the same answer.
  if (result.verdict === "skipped" && !result.reason.startsWith(NOT_THROUGH_XEND)) return { ok: false, why: `cell skipped: ${result.reason}` };
  return { ok: true };
}

export interface RecordCellsOptions {
  cells: Cell[];
  /** Starts the real backend (called once). */
  backendFor: () => Promise<Backend>;
  xend: string;
  outDir: string;
  io: CliIO;
  /** How file names are shown. */
  shown?: (file: string) => string;
  recordedAt?: Date;
  concurrency?: number;
}

/**
 * Run `cells` through a RecordingBackend around the real backend and write one recording per cell
 * that completed; report the others. Returns the files written and the cells that failed.
 */
export async function recordCells(o: RecordCellsOptions): Promise<{ written: string[]; failed: { id: string; why: string }[] }> {
  const shown = o.shown ?? ((f: string) => f);
  let recorder: RecordingBackend | undefined;
  const backendFor = async (v: string): Promise<Backend> => {
    if (v !== o.xend) throw new HarnessError("internal", `record asked for xend ${v} while recording ${o.xend}`);
    recorder = new RecordingBackend(await o.backendFor());
    return recorder;
  };
  const written: string[] = [];
  const failed: { id: string; why: string }[] = [];
  const recordedAt = o.recordedAt ?? new Date();
  await runCells(o.cells, {
    backendFor,
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    onProgress: ({ done, total, result }) => {
      const collected = recorder?.take(result.id);
      const ok = recordable(result);
      let why: string | undefined;
      if (!ok.ok) why = ok.why;
      else if (!collected) why = "the cell never opened a backend session";
      else if (collected.faulted) why = `backend fault: ${collected.fault}`;
      else if (!collected.ended) why = "the cell's session did not end";
      if (why !== undefined || !collected) {
        failed.push({ id: result.id, why: why ?? "nothing collected" });
        o.io.err(oneLine(`[${done}/${total}] FAILED ${result.id}: ${why} (nothing written)`));
        return;
      }
      const rec = recorder!.toRecording(collected, { harnessVersion: VERSION, recordedAt });
      try {
        const file = writeRecording(o.outDir, rec);
        written.push(file);
        o.io.out(`[${done}/${total}] recorded ${result.id} -> ${shown(file)} (${rec.exchanges.length} exchanges, verdict ${result.verdict})`);
      } catch (e) {
        const msg = e instanceof HarnessError ? e.oneLine() : String(e);
        failed.push({ id: result.id, why: msg });
        o.io.err(oneLine(`[${done}/${total}] FAILED ${result.id}: ${msg}`));
      }
    },
  });
  o.io.out(`${written.length} recording(s) written, ${failed.length} cell(s) failed`);
  for (const f of failed) o.io.out(oneLine(`  failed: ${f.id}: ${f.why}`));
  return { written, failed };
}

export const command: Command = {
  name: "record",
  summary: "record a real xend's answers for the matrix's cells",
  help: HELP,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseCommandArgs("record", argv, {
      backend: { type: "string" },
      xend: { type: "string" },
      "xen-src": { type: "string" },
      url: { type: "string" },
      matrix: { type: "string" },
      libvirt: { type: "string" },
      scenario: { type: "string" },
      out: { type: "string" },
      "timeout-ms": { type: "string" },
      retries: { type: "string" },
    });
    if (isCI(io.env)) {
      io.err("xend-compat record: refusing to write recordings under CI (the CI environment variable is set); record on a workstation and commit the files");
      return 2;
    }
    const kind = values.backend;
    if (!kind) throw usage("--backend is required (sandbox, container or live)");
    if (!REAL_BACKENDS.has(kind))
      throw usage(`--backend ${kind}: record needs a real xend (sandbox, container or live)${kind === "recorded" ? "; replaying a recording cannot make one" : ""}`);
    const xend = values.xend;
    if (!xend) throw usage("--xend is required (the xend version being recorded, e.g. 4.1.2)");
    if (!/^\d+(\.\d+)+$/.test(xend)) throw usage(`--xend '${xend}' is not a xend version (e.g. 4.1.2)`);
    let timeoutMs: number | undefined;
    if (values["timeout-ms"] !== undefined) {
      timeoutMs = Number(values["timeout-ms"]);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw usage(`--timeout-ms '${values["timeout-ms"]}' is not a positive whole number`);
    }
    timeoutMs ??= wholeNumber("XEND_COMPAT_TIMEOUT_MS", io.env.XEND_COMPAT_TIMEOUT_MS, 1, 3_600_000);
    const retries = wholeNumber("--retries", values.retries, 0, 10) ?? wholeNumber("XEND_COMPAT_RETRIES", io.env.XEND_COMPAT_RETRIES, 0, 10);
    const runId = kind === "live" ? liveRunId(io.env) : undefined;
    const xenSrcVar = `XEND_COMPAT_XEN_SRC_${xend.replace(/\./g, "_")}`;
    let xenSrc = values["xen-src"] ?? io.env[xenSrcVar];
    // --xen-src V=DIR names the version too; it must be the one being recorded.
    const named = values["xen-src"] !== undefined ? /^(\d+(?:\.\d+)+)=(.+)$/.exec(values["xen-src"]) : null;
    if (named) {
      if (named[1] !== xend) throw usage(`--xen-src ${named[1]}=... names xend ${named[1]}, but --xend is ${xend}`);
      xenSrc = named[2];
    }
    if ((kind === "sandbox" || kind === "container") && !xenSrc)
      throw usage(`--backend ${kind} needs --xen-src DIR (a Xen source tree for xend ${xend}) or ${xenSrcVar}`);
    if (kind === "live" && !values.url) throw usage("--backend live needs --url (http://host:port or unix:///path)");
    if (values.url !== undefined) parseTarget(values.url); // a bad address is a usage error before anything runs

    const config = findProjectConfig(io.cwd);
    const matrix = loadMatrixFor({ matrix: values.matrix, cwd: io.cwd });
    const cells = expandCells(matrix, {
      xend: [xend],
      ...(values.libvirt ? { libvirt: [values.libvirt] } : {}),
      ...(values.scenario ? { scenario: values.scenario } : {}),
    });
    // Into --out, else the top layer of the project config's recordings, else the package's own.
    const outDir = values.out ? path.resolve(io.cwd, values.out) : (config?.recordings?.at(-1) ?? fromRoot(RECORDINGS_DIR));
    refuseNodeModules(outDir, "recordings");
    const shown = (f: string) => {
      const rel = path.relative(io.cwd, f);
      return rel && !rel.startsWith("..") ? rel : f;
    };

    const spec: BackendSpec = {
      kind: kind as BackendSpec["kind"],
      xendVersion: xend,
      ...(xenSrc ? { xenSrc: path.resolve(io.cwd, xenSrc) } : {}),
      ...(values.url ? { url: values.url } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(retries !== undefined ? { retries } : {}),
      ...(runId !== undefined ? { runId } : {}),
      log: (line) => io.err(line),
    };
    io.err(`recording ${cells.length} cell(s) of xend ${xend} with the ${kind} backend into ${shown(outDir)}`);
    const r = await recordCells({ cells, backendFor: async () => createBackend(spec), xend, outDir, io, shown });
    return r.failed.length ? 1 : 0;
  },
};
