/** Helpers the commands share (list options, colour, progress on standard error). */
import type { CliIO } from "./types.js";
import * as path from "node:path";
import { HarnessError } from "../errors.js";
import { onStopSignal } from "../signals.js";
import { expandCells } from "../matrix/index.js";
import { loadMatrixFor, parseBackendKind, parseWire, progressReporter, wholeNumber, type ExecuteOptions, type Progress } from "../run/index.js";
import { redact } from "../xend/index.js";

export function listArg(v: string | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const arr = (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(",")).map((x) => x.trim()).filter(Boolean);
  return arr.length ? arr : undefined;
}

export function useColor(io: CliIO): boolean {
  return io.isTTY && io.env.NO_COLOR === undefined && io.env.TERM !== "dumb";
}

export function stderrProgress(io: CliIO, backend: string): { onProgress: (p: Progress) => void; finish: () => void } {
  const tty = io.isTTY && Boolean(process.stderr.isTTY);
  const inner = progressReporter({
    isTTY: tty,
    backend,
    // On a terminal the line is rewritten in place, bypassing io.err: redacted here as io.err is.
    write: (s) => (tty ? process.stderr.write(redact(s)) : io.err(s.replace(/\n$/, ""))),
  });
  // Ctrl-C (or TERM, HUP) mid-run is not silent: what ran, how it came out, and what was left.
  const tally = interruptTally();
  const unregister = onStopSignal({
    name: "progress",
    cleanup: (sig) => {
      if (tty) process.stderr.write(`\r${" ".repeat(79)}\r`);
      io.err(tally.line(sig));
    },
  });
  return {
    onProgress: (p) => {
      tally.add(p);
      inner.onProgress(p);
    },
    finish: () => {
      unregister();
      inner.finish();
    },
  };
}

/** Counts of the cells done so far, for the line printed when a run is interrupted. */
export function interruptTally(): { add(p: Progress): void; line(sig: string): string } {
  let done = 0;
  let total = 0;
  const outcomes = new Map<string, number>();
  return {
    add(p) {
      done = p.done;
      total = p.total;
      outcomes.set(p.result.outcome, (outcomes.get(p.result.outcome) ?? 0) + 1);
    },
    line(sig) {
      const how = [...outcomes].map(([o, n]) => `${n} ${o}`).join(", ");
      return total
        ? `interrupted (${sig}): ${done} of ${total} cells ran${how ? ` (${how})` : ""}; ${total - done} not run`
        : `interrupted (${sig}) before any cell finished`;
    },
  };
}

/**
 * The selection and sources every matrix command takes (run, support, explain, diff): which matrix,
 * which backend and recordings, which cells, and how to reach a real xend. One definition, so that the
 * commands answer the same question the same way.
 */
export const SELECTION_OPTIONS = {
  matrix: { type: "string" },
  backend: { type: "string" },
  recordings: { type: "string", multiple: true },
  xend: { type: "string", multiple: true },
  libvirt: { type: "string", multiple: true },
  scenario: { type: "string" },
  list: { type: "boolean" },
  url: { type: "string" },
  "timeout-ms": { type: "string" },
  retries: { type: "string" },
  wire: { type: "string" },
} as const;

export const SELECTION_HELP = `selection and sources (the same for run, support, explain and diff):
  --matrix F         matrix file (default matrices/default.yaml of the package)
  --backend B        recorded (default: replay the recordings), sandbox, container, live
                     sandbox/container take the Xen tree from XEND_COMPAT_XEN_SRC_<V> (e.g. _4_1_2),
                     live the xend from --url or XEND_COMPAT_LIVE_URL. A xend version the backend
                     does not have (no recordings, no tree, no live xend named, a live xend of
                     another version) is bad input before any cell runs, and a backend that cannot
                     start stops the run with its reason: exit 2 either way, also under CI
  --recordings DIR   recorded: the user's recordings, over the shipped ones (repeatable: later
                     over earlier; default the project config's recordings); a cell replays from
                     the top-most layer holding its recording. container without a Xen tree:
                     replays the top one
  --xend V           only this xend version (repeatable, or comma-separated)
  --libvirt V        only this libvirt version (repeatable, or comma-separated)
  --scenario GLOB    only scenarios whose id matches (comma-separated globs: any of them)
  --list             print the selected cell ids, one a line, and run nothing
  --url U            live: the xend, http://host:port or unix:///path (default $XEND_COMPAT_LIVE_URL)
  --timeout-ms N     per-request deadline for a real xend (default $XEND_COMPAT_TIMEOUT_MS, else 30000)
  --retries N        live: retries of a GET after a transport fault, 0-10 (default 2)
  --wire W           whose HTTP client talks to xend: ours (default: xend-compat's client with the
                     release's encoding), native (a src:DIR tree's own xend client, libvirt < 4.3.0,
                     built by the tool; needs a real xend: sandbox, container with a Xen tree,
                     live; each cell says wire native or ours), auto (native where it can be)`;

export interface SelectionValues {
  matrix?: string;
  backend?: string;
  recordings?: string[];
  xend?: string[];
  libvirt?: string[];
  scenario?: string;
  list?: boolean;
  url?: string;
  "timeout-ms"?: string;
  retries?: string;
  wire?: string;
}

/** The execute() options of a command line's selection (usage errors name the option). */
export function selectionOf(values: SelectionValues, io: CliIO): Pick<ExecuteOptions, "matrix" | "backend" | "xend" | "libvirt" | "scenario" | "cwd" | "env" | "recordingLayers" | "recordingsDir" | "backendSettings" | "wire"> {
  const backend = values.backend ?? "recorded";
  parseBackendKind(backend);
  parseWire(values.wire);
  const timeoutMs = wholeNumber("--timeout-ms", values["timeout-ms"], 1, 3_600_000);
  const retries = wholeNumber("--retries", values.retries, 0, 10);
  if (values.recordings !== undefined && backend !== "recorded" && backend !== "container")
    throw new HarnessError("input.usage", `--recordings is only for --backend recorded or container (got --backend ${backend})`);
  const layers = values.recordings?.map((d) => path.resolve(io.cwd, d));
  if (values.url !== undefined && backend !== "live") throw new HarnessError("input.usage", `--url is only for --backend live (got --backend ${backend})`);
  return {
    matrix: values.matrix,
    backend,
    xend: listArg(values.xend),
    libvirt: listArg(values.libvirt),
    scenario: values.scenario,
    ...(values.wire !== undefined ? { wire: values.wire } : {}),
    cwd: io.cwd,
    env: io.env,
    // recorded: layers over the shipped recordings; container without a Xen tree replays one directory.
    ...(layers ? (backend === "container" ? { recordingsDir: layers[layers.length - 1] } : { recordingLayers: layers }) : {}),
    backendSettings: {
      ...(values.url !== undefined ? { url: values.url } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(retries !== undefined ? { retries } : {}),
      log: (line: string) => io.err(line),
    },
  };
}

/** `--list`: the selected cells' ids, without running anything. */
export function listCells(sel: Pick<ExecuteOptions, "matrix" | "xend" | "libvirt" | "scenario" | "cwd">, io: CliIO): number {
  const matrix = loadMatrixFor(sel);
  const cells = expandCells(matrix, { xend: sel.xend, libvirt: sel.libvirt, scenario: sel.scenario });
  io.out(cells.map((c) => c.id).join("\n"));
  io.err(`${cells.length} cell(s) of matrix ${matrix.name}`);
  return 0;
}
