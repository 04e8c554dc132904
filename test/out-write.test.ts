/**
 * `--out` (and every other write: harness/fsutil.ts writeFileAtomic) never replaces what it names
 * when that is not a regular file: a symbolic link keeps being a link (the file it points to is
 * written), a FIFO and a device node are written through, a FIFO nobody reads is refused instead of
 * waited on, and a write that fails (ENOSPC on /dev/full, a directory, a path through a file) is one
 * line, exit 2, naming the path.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { writeFileAtomic } from "../harness/fsutil.js";
import { HarnessError } from "../harness/errors.js";
import { runCli } from "./support/cli.js";

const ONE_CELL = ["run", "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-utc"];
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "xc-out-"));
  dirs.push(d);
  return d;
}

describe("--out writes through to what it names, or refuses with exit 2", () => {
  it("a symbolic link to a file stays a link; the file it names gets the report", async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, "real.txt"), "old\n");
    fs.symlinkSync("real.txt", path.join(d, "report.txt"));
    const r = await runCli([...ONE_CELL, "--out", "report.txt"], { cwd: d });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.lstatSync(path.join(d, "report.txt")).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(path.join(d, "report.txt"))).toBe("real.txt");
    expect(fs.readFileSync(path.join(d, "real.txt"), "utf8")).toContain("4.1.2");
    expect(fs.readdirSync(d).sort()).toEqual(["real.txt", "report.txt"]);
  });

  it("a FIFO with a reader is written into, and stays a FIFO", async () => {
    const d = tmp();
    const fifo = path.join(d, "pipe");
    execFileSync("mkfifo", [fifo]);
    const rd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      // The table (a few KB): it fits in the pipe's buffer, read here after the CLI returns.
      const r = await runCli([...ONE_CELL, "--out", fifo], { cwd: d });
      expect(r.code, r.stderr).toBe(0);
      const buf = Buffer.alloc(1 << 16);
      const n = fs.readSync(rd, buf, 0, buf.length, null);
      expect(buf.toString("utf8", 0, n)).toMatch(/^xend-compat run: matrix default/);
    } finally {
      fs.closeSync(rd);
    }
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
  });

  it("a FIFO nobody reads: exit 2 at once (no wait), the FIFO left as it is", async () => {
    const d = tmp();
    const fifo = path.join(d, "pipe");
    execFileSync("mkfifo", [fifo]);
    const r = await runCli([...ONE_CELL, "--out", fifo], { cwd: d });
    expect(r.code).toBe(2);
    expect(r.err).toEqual([`xend-compat run: --out ${fifo}: cannot write ${fifo}: ENXIO (no process reads from it)`]);
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
  }, 20_000);

  it("/dev/null is written through and stays a device; /dev/full is ENOSPC, exit 2, still a device", async () => {
    const before = fs.statSync("/dev/null");
    const r = await runCli([...ONE_CELL, "--out", "/dev/null"], { cwd: tmp() });
    expect(r.code, r.stderr).toBe(0);
    const after = fs.statSync("/dev/null");
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.rdev).toBe(before.rdev);
    if (fs.existsSync("/dev/full")) {
      const full = await runCli([...ONE_CELL, "--out", "/dev/full"], { cwd: tmp() });
      expect(full.code).toBe(2);
      expect(full.err).toEqual(["xend-compat run: --out /dev/full: cannot write /dev/full: ENOSPC (no space left on the device)"]);
      expect(fs.statSync("/dev/full").isCharacterDevice()).toBe(true);
    }
  });

  it("a directory, a path through a file, a dangling link: exit 2 with the path, nothing replaced", async () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, "adir"));
    fs.writeFileSync(path.join(d, "afile"), "keep\n");
    fs.symlinkSync("nowhere", path.join(d, "dangling"));
    const cases: [string, string][] = [
      ["adir", "EISDIR (it is a directory)"],
      ["afile/x.txt", "a part of the path exists and is not a directory"],
      ["dangling", "a dangling symbolic link"],
    ];
    for (const [out, why] of cases) {
      const r = await runCli([...ONE_CELL, "--out", out], { cwd: d });
      expect(r.code, out).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toContain(`--out ${out}: cannot write ${path.join(d, out)}: `);
      expect(r.err[0]).toContain(why);
    }
    expect(fs.readFileSync(path.join(d, "afile"), "utf8")).toBe("keep\n");
    expect(fs.lstatSync(path.join(d, "dangling")).isSymbolicLink()).toBe(true);
    expect(fs.readdirSync(d).sort()).toEqual(["adir", "afile", "dangling"]);
  });

  it("writeFileAtomic: every failure is a HarnessError input.file naming the path", () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, "x"));
    expect(() => writeFileAtomic(path.join(d, "x"), "t")).toThrow(HarnessError);
    expect(() => writeFileAtomic(path.join(d, "x"), "t")).toThrow(`cannot write ${path.join(d, "x")}: EISDIR`);
  });
});
