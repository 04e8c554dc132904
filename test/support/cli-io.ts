/** A CliIO that keeps what a command printed, for tests that run commands in-process. */
import type { CliIO } from "../../harness/cli/types.js";

export type CapturedIO = CliIO & { stdout: string; stderr: string };

/** Every line a command writes, newline-terminated, in `stdout` and `stderr`. */
export function captureIO(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = {}): CapturedIO {
  const o: CapturedIO = {
    stdout: "",
    stderr: "",
    out: (s: string) => void (o.stdout += s.endsWith("\n") ? s : s + "\n"),
    err: (s: string) => void (o.stderr += s.endsWith("\n") ? s : s + "\n"),
    isTTY: false,
    env,
    cwd,
  };
  return o;
}
