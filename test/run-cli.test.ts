/**
 * The run/support/explain/diff commands through the CLI dispatcher, on the shipped recordings (skipped
 * with the reason when there are none) and on bad input (always).
 */
import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main, type CliIO } from "../harness/cli.js";

const root = path.join(__dirname, "..");
const haveRecordings = ["3.2", "3.4.3", "4.1.2"].every((v) => fs.existsSync(path.join(root, "fixtures", "recordings", v)));

function io(env: NodeJS.ProcessEnv = {}, cwd = os.tmpdir()): CliIO & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return { out: (s) => (out += s.endsWith("\n") ? s : s + "\n"), err: (s) => (err += s.endsWith("\n") ? s : s + "\n"), isTTY: false, env, cwd, stdout: () => out, stderr: () => err };
}

describe("CLI: bad input is exit 2 with one line naming the place", () => {
  it("a matrix with an error names file:line:column", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-cli-"));
    fs.writeFileSync(path.join(dir, "bad.yaml"), "name: x\nxend: [\"4.1.2\"]\nlibvirt: [\"0.9.11\"]\nscenarios: []\nbogus: 1\n");
    const o = io({}, dir);
    expect(await main(["run", "--matrix", "bad.yaml"], o)).toBe(2);
    expect(o.stderr()).toMatch(/^xend-compat run: bad\.yaml:4:12: expected at least one scenario/m);
    expect(o.stderr()).toMatch(/unknown key 'bogus'/);
    expect(o.stderr()).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it("unknown options, reporters, versions, cell ids", async () => {
    for (const argv of [
      ["run", "--bogus"],
      ["run", "--reporter", "xml"],
      ["run", "--libvirt", "0.0.1"],
      ["run", "--backend", "magic"],
      ["explain", "4.1.2/hvm-utc"],
      ["explain"],
      ["diff", "--from", "0.9.10"],
      ["support", "--xend", "latest"],
    ]) {
      const o = io();
      expect(await main(argv, o), argv.join(" ")).toBe(2);
      expect(o.stderr().trim().split("\n").length, argv.join(" ")).toBe(1);
    }
  });

  it("--help for each command", async () => {
    for (const c of ["run", "support", "explain", "diff"]) {
      const o = io();
      expect(await main([c, "--help"], o)).toBe(0);
      expect(o.stdout()).toMatch(new RegExp(`^usage: xend-compat ${c}`));
      expect(o.stdout()).toMatch(/exit codes/);
    }
  });
});

describe.skipIf(!haveRecordings)("CLI on the recordings (skipped: no recordings yet)", () => {
  it("run from another directory: all cells as expected, exit 0, ends with where cells ran", async () => {
    const o = io({}, os.tmpdir());
    expect(await main(["run"], o)).toBe(0);
    const lines = o.stdout().trim().split("\n");
    expect(lines.slice(-2).join(" ")).toMatch(/^210 cells: 0 ran live, 0 in a sandbox, 0 in a container, 210 replayed, 0\s+skipped, 0 errors/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
  });

  it("run --reporter json prints one object on stdout (summary on stderr)", async () => {
    const o = io();
    expect(await main(["run", "--reporter", "json", "--xend", "4.1.2", "--libvirt", "0.8.7", "--scenario", "pv-localtime"], o)).toBe(0);
    const obj = JSON.parse(o.stdout());
    expect(obj.cells).toHaveLength(1);
    expect(obj.cells[0]).toMatchObject({ id: "4.1.2/0.8.7/pv-localtime", verdict: "changed", outcome: "xfail" });
    expect(obj.cells[0].observation.localtimePaths).toEqual([{ path: "/domain/image/linux/localtime", value: "1" }]);
    expect(o.stderr()).toMatch(/1 cell: .* 1 replayed/);
  });

  it("run exits 1 when a cell is not as expected (the default matrix without its expectations)", async () => {
    // The known (localtime 0) problem of 0.9.11 on xend 3.2, with the expectation that names it removed:
    // changed without an expectation → fail → exit 1.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-noexp-"));
    const text = fs.readFileSync("matrices/default.yaml", "utf8");
    const matrix = path.join(dir, "noexp.yaml");
    // A user's copy of the matrix, with the domains beside it (paths are relative to the matrix file).
    fs.cpSync("fixtures/domains", path.join(dir, "domains"), { recursive: true });
    fs.writeFileSync(matrix, text.slice(0, text.indexOf("\nexpectations:")).replaceAll("../fixtures/domains/", "domains/") + "\n");
    const o = io();
    expect(await main(["run", "--matrix", matrix, "--libvirt", "0.9.11", "--xend", "3.2", "--scenario", "hvm-utc-start"], o)).toBe(1);
    expect(o.stdout()).toMatch(/changed/);
    expect(o.stdout()).toMatch(/1 fail/);
  });

  it("run --reporter junit --out writes the file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-cli-"));
    const o = io({}, dir);
    expect(await main(["run", "--reporter", "junit", "--out", "r.xml", "--xend", "3.2"], o)).toBe(0);
    expect(fs.readFileSync(path.join(dir, "r.xml"), "utf8")).toMatch(/^<\?xml[\s\S]*<testsuites name="xend-compat default" tests="70"/);
    expect(o.stdout()).toMatch(/report written to r\.xml\n70 cells:/);
  });

  it("support --json gives the status per libvirt × xend series (the full matrix), with the tree behind each", async () => {
    const o = io();
    expect(await main(["support", "--libvirt", "0.9.11", "--json"], o)).toBe(0);
    const obj = JSON.parse(o.stdout());
    expect(obj.support.map((s: { xend: string; status: string }) => `${s.xend}:${s.status}`)).toEqual([
      "3.0.0:partial", "3.1:unsafe", "3.2:unsafe", "3.3:unsafe", "3.4.3:unsafe",
      "4.0.4:partial", "4.1.2:partial", "4.2.5:partial", "4.3.4:partial", "4.4.4:partial",
    ]);
    expect(obj.support.find((s: { xend: string }) => s.xend === "3.1").xendTree).toBe("3.1 (tree at 3.1.0-branched, commit 15f6eaad)");
    // --matrix gives the default matrix's three
    const d = io();
    expect(await main(["support", "--libvirt", "0.9.11", "--json", "--matrix", path.join(root, "matrices", "default.yaml")], d)).toBe(0);
    expect(JSON.parse(d.stdout()).support.map((s: { xend: string; status: string }) => `${s.xend}:${s.status}`)).toEqual(["3.2:unsafe", "3.4.3:unsafe", "4.1.2:partial"]);
  });

  it("explain tells the whole story of one cell", async () => {
    const o = io();
    expect(await main(["explain", "3.4.3/0.9.11/hvm-utc-start"], o)).toBe(0);
    const t = o.stdout();
    for (const part of [
      "cell 3.4.3/0.9.11/hvm-utc-start",
      "1. Domain XML in",
      "<name>xc-hvm-utc-start-v0911</name>",
      "2. libvirt learns xend_config_format: 4",
      "(localtime 0)",
      "[1-define] POST /xend/domain/",
      "[2-start] POST /xend/domain/xc-hvm-utc-start-v0911",
      "rtc_timeoffset: /domain/image/hvm/rtc_timeoffset = 0",
      "at 2-start: UTC+7200s (domain_set_time_offset(7200)); intended UTC+0s",
      "verdict: changed",
      "outcome: xfail",
    ])
      expect(t).toContain(part);
  });

  it("diff shows only the cells that differ between two libvirt versions", async () => {
    const o = io();
    expect(await main(["diff", "--from", "0.8.7", "--to", "0.9.10", "--xend", "4.1.2"], o)).toBe(0);
    const t = o.stdout();
    expect(t).toMatch(/^diff libvirt 0\.8\.7 \(0\.8\.7\) → 0\.9\.10 \(0\.9\.10\): 4 of 14 cells differ/);
    expect([...t.matchAll(/^xend 4\.1\.2 \/ (\S+): (.*)$/gm)].map((m) => `${m[1]}: ${m[2]}`)).toEqual([
      "pv-localtime: changed → preserved",
      "pv-localtime-bootloader: changed → preserved",
      "pv-args-special: rejected → preserved",
      "pv-args-plus-percent: changed → preserved",
    ]);
    expect(t).toContain('cmdline after: "root=/dev/xvda1 ro console=hvc0 note=a bAc" →');
    // what libvirt changed between the two releases, from the table of changes
    expect(t).toContain("libvirt changes between 0.8.7 and 0.9.10 (docs/libvirt-releases.md):");
    expect(t).toContain("+ pv-image-localtime (8be115ff8, 0.9.5):");
    expect(t).toContain("+ wire-uri-escape (b14e7d2a1, 0.9.5):");
    const same = io();
    expect(await main(["diff", "--from", "0.9.11", "--to", "1.3.1"], same)).toBe(0);
    expect(same.stdout()).toMatch(/0 of 42 cells differ\nverdicts: no cell changes verdict\n\nsupport: unchanged/);
  });

  it("diff leads with the verdict moves and groups the cells by cause", async () => {
    const o = io();
    expect(await main(["diff", "--from", "0.8.7", "--to", "0.9.10", "--xend", "4.1.2"], o)).toBe(0);
    const lines = o.stdout().split("\n");
    expect(lines[1]).toBe("verdicts: 4 cell(s) change verdict: 3 changed → preserved, 1 rejected → preserved; 0 differ only in what was observed");
    // the groups, unwrapped: one line each
    const start = lines.indexOf("by cause:") + 1;
    const byCause: string[] = [];
    for (const l of lines.slice(start, lines.indexOf("", start))) {
      if (/^ {4}/.test(l)) byCause[byCause.length - 1] += ` ${l.trim()}`; // a wrapped continuation
      else byCause.push(l.trim());
    }
    expect(byCause).toEqual([
      "2 × changed → preserved (clock after differ): 4.1.2/pv-localtime, 4.1.2/pv-localtime-bootloader",
      "1 × changed → preserved (cmdline after differ): 4.1.2/pv-args-plus-percent",
      expect.stringMatching(/^1 × rejected → preserved \(.*\): 4\.1\.2\/pv-args-special$/),
    ]);
  });

  it("diff --json is one object with the verdict moves, groups, cells and support moves", async () => {
    const o = io();
    expect(await main(["diff", "--from", "0.8.7", "--to", "0.9.10", "--xend", "4.1.2", "--json"], o)).toBe(0);
    const j = JSON.parse(o.stdout());
    expect(j).toMatchObject({ from: { libvirt: "0.8.7" }, to: { libvirt: "0.9.10" }, compared: 14, differ: 4, errors: [] });
    expect(j.verdictMoves).toEqual([
      { from: "changed", to: "preserved", cells: 3 },
      { from: "rejected", to: "preserved", cells: 1 },
    ]);
    expect(j.cells.map((c: { cell: string }) => c.cell)).toContain("4.1.2/pv-args-special");
    expect(j.failOn).toBeUndefined();
  });

  it("diff --fail-on: 'changed' and 'rejected' trip on cells newly silently changed or refused, 'any' on any difference", async () => {
    // 0.9.10 → 0.8.7: the PV localtime cells become 'changed', pv-args-special becomes 'rejected'.
    const c = io();
    expect(await main(["diff", "--from", "0.9.10", "--to", "0.8.7", "--xend", "4.1.2", "--fail-on", "changed"], c)).toBe(1);
    expect(c.stderr()).toMatch(/--fail-on changed: 3 cell\(s\): .*4\.1\.2\/pv-localtime/);
    const r = io();
    expect(await main(["diff", "--from", "0.9.10", "--to", "0.8.7", "--xend", "4.1.2", "--fail-on", "rejected"], r)).toBe(1);
    expect(r.stderr()).toContain("--fail-on rejected: 1 cell(s): 4.1.2/pv-args-special");
    // the other way round nothing gets worse
    expect(await main(["diff", "--from", "0.8.7", "--to", "0.9.10", "--xend", "4.1.2", "--fail-on", "changed"], io())).toBe(0);
    expect(await main(["diff", "--from", "0.8.7", "--to", "0.9.10", "--xend", "4.1.2", "--fail-on", "any"], io())).toBe(1);
    expect(await main(["diff", "--from", "0.9.11", "--to", "1.3.1", "--fail-on", "any"], io())).toBe(0);
    const bad = io();
    expect(await main(["diff", "--from", "0.9.11", "--to", "1.3.1", "--fail-on", "worse"], bad)).toBe(2);
    expect(bad.stderr()).toContain("--fail-on 'worse': expected one of changed, rejected, any");
  });

  it("one run gives several reports: JUnit and HTML to files, the table to stdout; 'report' renders the JSON again", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-rep-"));
    const o = io({}, dir);
    const code = await main(["run", "--xend", "4.1.2", "--reporter", "junit=out.xml", "--reporter", "html=report.html", "--reporter", "json=results.json", "--reporter", "table"], o);
    expect(code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "out.xml"), "utf8")).toMatch(/^<\?xml[\s\S]*<testsuites /);
    expect(fs.readFileSync(path.join(dir, "report.html"), "utf8")).toMatch(/^<!DOCTYPE html>/i);
    expect(o.stdout()).toMatch(/^xend-compat run: matrix default/); // the table
    expect(o.stderr()).toContain("junit report written to out.xml");
    expect(o.stderr()).toContain("html report written to report.html");
    const again = io({}, dir);
    expect(await main(["report", "results.json", "--reporter", "junit"], again)).toBe(0);
    expect(again.stdout().trim()).toBe(fs.readFileSync(path.join(dir, "out.xml"), "utf8").trim());
    const md = io({}, dir);
    expect(await main(["report", "results.json", "--reporter", "markdown=r.md"], md)).toBe(0);
    expect(md.stdout()).toMatch(/markdown report written to r\.md\n70 cells:/);
  });

  it("reporters: two to stdout, two into one file, an unknown name, a bad results file: exit 2, one line", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-rep-"));
    fs.writeFileSync(path.join(dir, "bad.json"), '{"version": 1,\n "cells": [}');
    for (const [argv, msg] of [
      [["run", "--reporter", "table", "--reporter", "json"], "table and json would both go to standard output"],
      [["run", "--reporter", "junit=a.xml", "--reporter", "html=a.xml"], "junit and html would both write a.xml"],
      [["run", "--reporter", "xml=a.xml"], "--reporter 'xml=a.xml': expected one of"],
      [["run", "--reporter", "junit=a.xml", "--out", "b"], "--out b: it names the file of the one reporter given without '=FILE' (here 0)"],
      [["report", "bad.json"], "bad.json:2:"],
      [["report", "nope.json"], "cannot read nope.json: no such file"],
      [["report"], "report needs exactly one JSON results file"],
    ] as const) {
      const o = io({}, dir);
      expect(await main([...argv], o), argv.join(" ")).toBe(2);
      expect(o.stderr().trim().split("\n"), argv.join(" ")).toHaveLength(1);
      expect(o.stderr(), argv.join(" ")).toContain(msg);
    }
    expect(fs.readdirSync(dir)).toEqual(["bad.json"]); // nothing written
  });

  it("run, support, explain and diff take the same selection and sources (--list, --matrix, --recordings)", async () => {
    const l = io();
    expect(await main(["support", "--list", "--xend", "4.1.2", "--libvirt", "0.9.11"], l)).toBe(0);
    // support answers from the full matrix: the default's 14 scenarios and pv-localtime-start
    expect(l.stdout().trim().split("\n")).toHaveLength(15);
    const d = io();
    expect(await main(["diff", "--from", "0.8.7", "--to", "0.9.10", "--xend", "3.2", "--scenario", "pv-*", "--list"], d)).toBe(0);
    expect(d.stdout().trim().split("\n").sort()).toEqual(
      ["0.8.7", "0.9.10"].flatMap((v) => ["pv-args-plus-percent", "pv-args-special", "pv-localtime", "pv-localtime-bootloader", "pv-utc", "pv-utc-start"].map((s) => `3.2/${v}/${s}`)).sort(),
    );
    const r = io();
    expect(await main(["run", "--list", "--scenario", "hvm-utc"], r)).toBe(0);
    expect(r.stdout().trim().split("\n")).toHaveLength(15);
    // The user's own recordings: a copy of the shipped 4.1.2 ones answers support and explain alike.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-own-"));
    fs.cpSync(path.join(root, "fixtures", "recordings", "4.1.2"), path.join(dir, "4.1.2"), { recursive: true });
    const s = io({}, dir);
    expect(await main(["support", "--recordings", ".", "--xend", "4.1.2", "--libvirt", "0.9.11", "--json"], s)).toBe(0);
    expect(JSON.parse(s.stdout()).support).toEqual([expect.objectContaining({ libvirt: "0.9.11", xend: "4.1.2", status: "partial" })]);
    const e = io({}, dir);
    expect(await main(["explain", "4.1.2/0.9.11/hvm-utc", "--recordings", "."], e)).toBe(0);
    expect(e.stdout()).toContain("verdict: preserved");
    // Layers: an empty directory of the user's adds nothing, the shipped recordings answer.
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "xc-none-"));
    expect(await main(["explain", "4.1.2/0.9.11/hvm-utc", "--recordings", "."], io({}, empty))).toBe(0);
    const n = io({}, empty);
    expect(await main(["explain", "9.9/0.9.11/hvm-utc", "--recordings", "."], n)).toBe(2);
    expect(n.stderr()).toMatch(/xend 9\.9: no recordings to replay in fixtures\/recordings, \/\S+ \(recorded xend versions: 3\.0\.0, 3\.1, 3\.2, /);
    const bad = io();
    expect(await main(["explain", "4.1.2/0.9.11/hvm-utc", "--xend", "3.2"], bad)).toBe(2);
    expect(await main(["diff", "--from", "0.8.7", "--to", "0.9.10", "--libvirt", "1.3.1"], io())).toBe(2);
  });

  it("support prints the answers at a glance before the details", async () => {
    const o = io();
    expect(await main(["support", "--matrix", path.join(root, "matrices", "default.yaml"), "--libvirt", "0.9.11,0.8.7"], o)).toBe(0);
    expect(o.stdout().split("\n").slice(0, 4)).toEqual([
      "support of 2 libvirt version(s) by 3 xend version(s): 5 unsafe, 1 partial",
      "libvirt \\ xend  3.2      3.4.3    4.1.2",
      "0.9.11          unsafe   unsafe   partial",
      "0.8.7           unsafe   unsafe   unsafe",
    ]);
  });

  it("--scenario takes comma-separated globs", async () => {
    const o = io();
    expect(await main(["run", "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "hvm-utc,pv-*", "--reporter", "json"], o)).toBe(0);
    const ids = JSON.parse(o.stdout()).cells.map((c: { scenario: string }) => c.scenario).sort();
    expect(ids).toEqual(["hvm-utc", "pv-args-plus-percent", "pv-args-special", "pv-localtime", "pv-localtime-bootloader", "pv-utc", "pv-utc-start"]);
  });
});

describe("support: an error cell is not an answer", () => {
  it.skipIf(!haveRecordings)("exits 1 when a cell is an error (a missing recording), 0 when every cell answered (skipped: no recordings)", async () => {
    const { execa } = await import("execa");
    const { copyProject } = await import("./support/project-copy.js");
    const project = copyProject();
    try {
      const rec = path.join(project.dir, "fixtures", "recordings", "3.2", "0.9.11");
      fs.cpSync(path.join(root, "fixtures", "recordings", "3.2", "0.9.11"), rec, { recursive: true });
      const tsx = path.join(root, "node_modules", ".bin", "tsx");
      const support = () => execa(tsx, [project.cli, "support", "--xend", "3.2", "--libvirt", "0.9.11"], { cwd: project.dir, reject: false, env: { NO_COLOR: "1", CI: "" } });
      const whole = await support();
      expect(whole.exitCode, whole.stderr).toBe(0);
      fs.rmSync(path.join(rec, "hvm-utc.yaml"));
      const r = await support();
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/error: hvm-utc\n/);
      expect(r.stdout).toMatch(/- hvm-utc: error: [^]*no\s+recording\s+at/);
    } finally {
      project.remove();
    }
  }, 60_000);
});
