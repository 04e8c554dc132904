/**
 * Ctrl-C is not silent: a run told to stop (INT, TERM, HUP) says on stderr what ran, how it came out and
 * what was left, then ends by the signal. In a child process (signals are process-wide).
 */
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { interruptTally } from "../harness/cli/common.js";
import type { Progress } from "../harness/run/index.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const progressOf = (done: number, total: number, outcome: string) => ({ done, total, result: { outcome } }) as unknown as Progress;

describe("interrupted runs say what ran and what was left", () => {
  it("counts the outcomes of the cells done so far", () => {
    const t = interruptTally();
    expect(t.line("SIGINT")).toBe("interrupted (SIGINT) before any cell finished");
    t.add(progressOf(1, 10, "pass"));
    t.add(progressOf(2, 10, "xfail"));
    t.add(progressOf(3, 10, "pass"));
    expect(t.line("SIGTERM")).toBe("interrupted (SIGTERM): 3 of 10 cells ran (2 pass, 1 xfail); 7 not run");
  });

  it("a signal mid-run prints that line on stderr and ends the process by the signal", () => {
    const script = `
      import { stderrProgress } from "./harness/cli/common.ts";
      const io = { out: (s) => process.stdout.write(s + "\\n"), err: (s) => process.stderr.write(s + "\\n"), isTTY: false, env: {}, cwd: process.cwd() };
      const p = stderrProgress(io, "recorded");
      for (const [i, o] of [[1, "pass"], [2, "fail"]]) p.onProgress({ done: i, total: 5, result: { outcome: o } });
      process.kill(process.pid, "SIGINT");
      setTimeout(() => process.exit(0), 5000);
    `;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
    expect(r.stderr).toContain("interrupted (SIGINT): 2 of 5 cells ran (1 pass, 1 fail); 3 not run");
    expect(r.signal).toBe("SIGINT");
  });
});
