/**
 * Nothing foreign reaches a terminal raw (harness/terminal.ts): an error quoting a value with a
 * newline is still one line; escape sequences from a matrix file (an expectation's reason, a
 * scenario's description) and from a xend's answers are shown escaped by the table reporter,
 * explain, progress and error lines; the `record` command printed on a replay miss is shell-quoted;
 * `xend-compat run | head -1` ends quietly (no EPIPE stack trace).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeReport, render } from "../harness/report/index.js";
import { progressReporter, runCells } from "../harness/run/index.js";
import { escapeControls, oneLine, shellQuote } from "../harness/terminal.js";
import { recordCommand } from "../harness/xend/index.js";
import { cellsOf, domainXml, FakeXend, toyProfile } from "./fakes/run-fakes.js";
import { runCli } from "./support/cli.js";
import { copyProject, ROOT, type ProjectCopy } from "./support/project-copy.js";

const ESC = "\x1b";
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

describe("escapeControls / oneLine / shellQuote", () => {
  it("escapes C0, DEL, C1, separators and bidi overrides; keeps newlines only when asked", () => {
    expect(oneLine("a\nb\tc\x1b[2J\x07\x7f\x9b\u2028\u202e")).toBe("a\\nb\\tc\\x1b[2J\\x07\\u007f\\u009b\\u2028\\u202e");
    expect(escapeControls("a\nb\x1b", { keepNewlines: true })).toBe("a\nb\\x1b");
    expect(oneLine("plain 4.1.2/0.9.11/pv-utc")).toBe("plain 4.1.2/0.9.11/pv-utc");
    // what JSON.stringify leaves raw is escaped in a form JSON reads back the same
    expect(JSON.parse(oneLine(JSON.stringify({ s: "\x7f\u2028\x9b" })))).toEqual({ s: "\x7f\u2028\x9b" });
  });

  it("shellQuote: plain words as they are, anything else single-quoted so a shell reads it back", () => {
    for (const s of ["4.1.2", "0.8.7+rfc-localtime", "it's", "a b", "$(rm -rf /)", "`x`", "", "a\nb", "*"]) {
      const q = shellQuote(s);
      expect(execFileSync("sh", ["-c", `printf %s ${q}`], { encoding: "utf8" })).toBe(s);
    }
    expect(shellQuote("0.8.7+rfc-localtime")).toBe("0.8.7+rfc-localtime");
  });

  it("the record command of a replay miss is shell-quoted", () => {
    expect(recordCommand("4.1.2/0.8.7+rfc-localtime/pv-utc")).toBe("xend-compat record --backend sandbox --xen-src DIR --xend 4.1.2 --libvirt 0.8.7+rfc-localtime --scenario pv-utc");
    expect(recordCommand("4.1.2/0.9.11/pv-utc")).toMatch(/--xend 4\.1\.2 --libvirt 0\.9\.11 --scenario pv-utc$/);
    // whatever reaches it, a shell reads each argument back as one word, and runs nothing
    const cmd = recordCommand("4.1.2/0.9.11/$(touch pwned) x;y");
    expect(cmd).toMatch(/--scenario '\$\(touch pwned\) x;y'$/);
  });
});

describe("one line, no terminal injection", () => {
  it("a value with a newline or an escape sequence: still one error line, escaped", async () => {
    for (const argv of [
      ["run", "--libvirt", "0.9.11\nxend-compat run: all good"],
      ["run", "--scenario", `hvm-*${ESC}]0;pwned${ESC}\\\n`],
      ["run", "--xend", `4.1.2${ESC}[2J`],
      ["explain", `4.1.2/0.9.11/x${ESC}[2J`],
      ["convert", "--libvirt", "0.9.11", "--to", "xml", `no-such\n${ESC}[2J.sxpr`],
    ]) {
      const r = await runCli(argv, { cwd: ROOT });
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err, argv.join(" ")).toHaveLength(1);
      expect(r.err[0]).not.toMatch(RAW);
      expect(r.err[0]).not.toContain("\n");
      expect(r.err[0]).toMatch(/\\n|\\x1b/);
    }
  });

  it("escape sequences in a matrix (expectation reason, description) and in xend's answers reach the table escaped", async () => {
    const matrix = `name: t\nxend: ["4.1.2"]\nlibvirt: ["0.9.11"]\nscenarios:\n  - {id: hvm-lt, description: "d\\e]0;pwned\\a", domain: d/lt.xml, steps: [define, read]}\nexpectations:\n  - {cells: "*/*/hvm-lt", verdict: preserved, reason: "fine\\e[2J\\e[31m"}\n`;
    const results = await runCells(cellsOf(matrix, { "d/lt.xml": domainXml("lt", "<clock offset='localtime'/>") }), {
      backendFor: async () => new FakeXend("4.1.2", { refuseDefine: `no${ESC}[2J${ESC}]0;owned\x07` }),
      profileFor: () => toyProfile(),
    });
    expect(results[0].reason).toContain(ESC); // the raw text is kept in the data (JSON, goldens)...
    const report = makeReport({ name: "t", file: "t.yaml" }, "sandbox", results);
    for (const color of [false, true]) {
      const text = await render("table", report, { width: 80, color });
      const withoutColour = text.replace(/\x1b\[\d+(;\d+)*m/g, "");
      expect(withoutColour).not.toMatch(RAW); // ...never the terminal
      expect(withoutColour).toContain("\\x1b[2J");
    }
    const json = JSON.parse(await render("json", report));
    expect(JSON.stringify(json)).toContain("\\u001b[2J"); // machine formats keep the data as it is
  });

  it("progress lines escape what they show", () => {
    const lines: string[] = [];
    const p = progressReporter({ isTTY: false, backend: "live", write: (s) => lines.push(s) });
    p.onProgress({ done: 1, total: 1, result: { id: `4.1.2/0.9.11/x${ESC}[2J`, outcome: "pass", verdict: "preserved" } as never });
    expect(lines[0]).toBe("[1/1] pass preserved 4.1.2/0.9.11/x\\x1b[2J\n");
  });
});

describe("a closed pipe on standard output ends quietly (built bin)", () => {
  let project: ProjectCopy | undefined;
  let bin: string | undefined;
  beforeAll(() => {
    project = copyProject();
    execFileSync(path.join(ROOT, "node_modules/.bin/tsc"), ["-p", path.join(ROOT, "tsconfig.build.json"), "--outDir", path.join(project.dir, "dist")], { cwd: ROOT });
    fs.mkdirSync(path.join(project.dir, "bin"));
    fs.copyFileSync(path.join(ROOT, "bin/xend-compat.mjs"), path.join(project.dir, "bin/xend-compat.mjs"));
    fs.cpSync(path.join(ROOT, "fixtures", "recordings"), path.join(project.dir, "fixtures", "recordings"), { recursive: true });
    bin = path.join(project.dir, "bin/xend-compat.mjs");
  });
  afterAll(() => project?.remove());

  it("run --reporter json | (reader closes after the first chunk): no EPIPE, no stack trace, the run's own exit code", async () => {
    const child = spawn(process.execPath, [bin!, "run", "--xend", "4.1.2", "--reporter", "json"], { cwd: project!.dir, env: { ...process.env, NO_COLOR: "1", CI: "" }, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    expect(err).not.toMatch(/EPIPE|node:events|^\s+at /m);
    expect(code).toBe(0);
  }, 60_000);

  void os;
});
