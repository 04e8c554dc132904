/**
 * The process's one SIGINT/SIGTERM policy, in a child process: cleanups run, then the process ends
 * by the signal even when another module keeps a pass-through listener (as signal-exit does); a
 * second signal during the cleanup is reported; a third ends the process at once.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";

const here = path.dirname(new URL(import.meta.url).pathname);
const script = path.join(os.tmpdir(), `xend-compat-signals-${process.pid}.mts`);
fs.writeFileSync(
  script,
  [
    `import { onStopSignal } from ${JSON.stringify(path.join(here, "signals.ts"))};`,
    // A listener of another module that does nothing (signal-exit only acts when it is the last one).
    `process.on("SIGTERM", () => {});`,
    `process.on("SIGINT", () => {});`,
    `process.on("SIGHUP", () => {});`,
    `let go: () => void = () => {};`,
    `process.stdin.on("data", () => go());`,
    // The cleanup also writes to standard error, which may be a terminal that is gone (SIGHUP).
    `onStopSignal({ name: "test", cleanup: async (sig) => { console.log("CLEANING " + sig); await new Promise<void>((r) => (go = r)); process.stderr.write("cleaning up\\n"); await new Promise((r) => setTimeout(r, 100)); console.log("CLEANED"); },`,
    `  again: () => console.log("AGAIN"), abandon: () => "thing-1" });`,
    `console.log("READY");`,
    `setInterval(() => {}, 1000);`,
  ].join("\n"),
);
afterAll(() => fs.rmSync(script, { force: true }));

/** Start the child; `on(line)` is told each stdout line; resolves with how the child ended. */
function child(on: (line: string, c: ReturnType<typeof spawn>) => void, o: { closeStderr?: boolean } = {}) {
  const c = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const lines: string[] = [];
  if (o.closeStderr) c.stderr!.destroy();
  else c.stderr!.on("data", (d: Buffer) => (err += String(d)));
  c.stdout!.on("data", (d: Buffer) => {
    out += String(d);
    let nl: number;
    while ((nl = out.indexOf("\n")) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      lines.push(line);
      on(line, c);
    }
  });
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: string[]; stderr: string }>((resolve) => {
    c.on("close", (code, signal) => resolve({ code, signal, lines, stderr: err }));
  });
}

describe("one signal policy (harness/signals.ts)", () => {
  it("SIGTERM: the cleanup runs to its end, then the process ends by SIGTERM despite another listener", async () => {
    const r = await child((line, c) => {
      if (line === "READY") c.kill("SIGTERM");
      if (line.startsWith("CLEANING")) c.stdin!.write("go\n");
    });
    expect(r.lines).toEqual(["READY", "CLEANING SIGTERM", "CLEANED"]);
    expect(r.signal).toBe("SIGTERM");
  });

  it("a second SIGINT during the cleanup is reported and the cleanup still ends; the process ends by SIGINT", async () => {
    let seenAgain = false;
    const r = await child((line, c) => {
      if (line === "READY") c.kill("SIGINT");
      if (line.startsWith("CLEANING")) c.kill("SIGINT");
      if (line === "AGAIN") {
        seenAgain = true;
        c.stdin!.write("go\n");
      }
    });
    expect(seenAgain).toBe(true);
    expect(r.lines).toEqual(["READY", "CLEANING SIGINT", "AGAIN", "CLEANED"]);
    expect(r.stderr).toContain("SIGINT again: hurrying the cleanup");
    expect(r.signal).toBe("SIGINT");
  });

  it("a third signal ends the process at once, naming what may be left", async () => {
    const r = await child((line, c) => {
      if (line === "READY") c.kill("SIGTERM");
      if (line.startsWith("CLEANING")) c.kill("SIGTERM");
      if (line === "AGAIN") c.kill("SIGTERM");
    });
    expect(r.lines).toEqual(["READY", "CLEANING SIGTERM", "AGAIN"]);
    expect(r.stderr).toContain("SIGTERM a third time: exiting now; may be left: thing-1");
    expect(r.signal).toBe("SIGTERM");
  });

  it("SIGHUP (the terminal closed) is a stop signal like the others: the cleanup runs to its end, then the process ends by SIGHUP", async () => {
    const r = await child((line, c) => {
      if (line === "READY") c.kill("SIGHUP");
      if (line.startsWith("CLEANING")) c.stdin!.write("go\n");
    });
    expect(r.lines).toEqual(["READY", "CLEANING SIGHUP", "CLEANED"]);
    expect(r.signal).toBe("SIGHUP");
  });

  it("after SIGHUP, writing to a standard error that is gone does not end the process before its cleanup", async () => {
    const r = await child(
      (line, c) => {
        if (line === "READY") c.kill("SIGHUP");
        if (line.startsWith("CLEANING")) c.stdin!.write("go\n");
      },
      { closeStderr: true },
    );
    expect(r.lines).toEqual(["READY", "CLEANING SIGHUP", "CLEANED"]);
    expect(r.signal).toBe("SIGHUP");
  });
});
