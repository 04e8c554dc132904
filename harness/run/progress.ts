/**
 * Progress while cells run: on a TTY one line rewritten in place; otherwise nothing per cell for
 * replayed runs (they are fast) and one line per cell for sandbox, container and live backends.
 */
import { oneLine } from "../terminal.js";
import type { Progress } from "./types.js";

export function progressReporter(opts: { isTTY: boolean; backend: string; write: (s: string) => void }): { onProgress: (p: Progress) => void; finish: () => void } {
  let drawn = false;
  if (opts.isTTY) {
    return {
      onProgress: ({ done, total, result }) => {
        const line = oneLine(`[${done}/${total}] ${result.id} ${result.verdict}`);
        opts.write(`\r${line.slice(0, 79).padEnd(79)}`);
        drawn = true;
      },
      finish: () => {
        if (drawn) opts.write(`\r${" ".repeat(79)}\r`);
      },
    };
  }
  if (opts.backend === "recorded") return { onProgress: () => {}, finish: () => {} };
  return {
    onProgress: ({ done, total, result }) => opts.write(`${oneLine(`[${done}/${total}] ${result.outcome} ${result.verdict} ${result.id}`)}\n`),
    finish: () => {},
  };
}
