/** Helpers the commands share (list options, colour, progress on standard error). */
import type { CliIO } from "./types.js";
import { progressReporter, type Progress } from "../run/index.js";
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
  return progressReporter({
    isTTY: tty,
    backend,
    // On a terminal the line is rewritten in place, bypassing io.err: redacted here as io.err is.
    write: (s) => (tty ? process.stderr.write(redact(s)) : io.err(s.replace(/\n$/, ""))),
  });
}
