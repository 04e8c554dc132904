import { describe, expect, it } from "vitest";
import * as path from "node:path";
import { HarnessError } from "../harness/errors.js";
import { loadMatrix, matrixProblems, parseMatrix } from "../harness/matrix/index.js";
import { domainXml, tempProject } from "./fakes/run-fakes.js";

const FILES = {
  "d/hvm.xml": domainXml("hvm", "<clock offset='utc'/>"),
  "d/pv.xml": domainXml("pv", "<clock offset='localtime'/>", "linux", "root=/dev/xvda1"),
};

function load(yaml: string, files: Record<string, string> = FILES) {
  const root = tempProject(files);
  return parseMatrix(yaml, { file: path.join(root, "m.yaml"), root, displayName: "m.yaml" });
}

function errorOf(yaml: string, files?: Record<string, string>): HarnessError {
  try {
    load(yaml, files);
  } catch (e) {
    expect(e).toBeInstanceOf(HarnessError);
    return e as HarnessError;
  }
  throw new Error("expected the matrix to be refused");
}

const GOOD = `name: small
xend: ["3.2", "4.1.2"]
libvirt: ["0.9.10", "0.9.11"]
scenarios:
  - id: hvm-utc
    description: HVM utc
    domain: d/hvm.xml
    steps: [define, read]
  - id: pv-lt
    description: PV localtime
    domain: d/pv.xml
    steps: [define, start, read]
    checks: [clock, effective-clock, cmdline]
`;

describe("matrix schema", () => {
  it("loads a valid matrix with derived guest types and defaults", () => {
    const m = load(GOOD);
    expect(m.name).toBe("small");
    expect(m.scenarios.map((s) => [s.id, s.guest, s.checks])).toEqual([
      ["hvm-utc", "hvm", ["clock"]],
      ["pv-lt", "pv", ["clock", "effective-clock", "cmdline"]],
    ]);
    expect(m.scenarios[1].cmdline).toBe("root=/dev/xvda1");
    expect(m.scenarios[1].intent).toEqual({ base: "localtime", adjustment: 0, reset: false });
  });

  it("names line and column of an unknown key", () => {
    const e = errorOf(GOOD.replace("    steps: [define, read]\n", "    steps: [define, read]\n    stpes: [read]\n"));
    expect(e.code).toBe("input.matrix");
    expect(e.oneLine()).toMatch(/^m\.yaml:9:5: unknown key 'stpes'/);
  });

  it("names the position of a value of the wrong type and what was expected", () => {
    const e = errorOf(GOOD.replace('xend: ["3.2", "4.1.2"]', 'xend: ["3.2", 4.1]'));
    expect(e.pos).toMatchObject({ file: "m.yaml", line: 2, column: 15 });
    expect(e.message).toMatch(/expected a version string/);
  });

  it("takes flaky: true on an expectation and refuses a non-boolean at its line", () => {
    const exp = (v: string) => `${GOOD}expectations:\n  - cells: "*/0.9.10/hvm-utc"\n    verdict: changed\n    reason: a race\n    report: docs/clock.md#xend-32-race\n    flaky: ${v}\n`;
    expect(load(exp("true")).expectations[0].flaky).toBe(true);
    const e = errorOf(exp("sometimes"));
    expect(e.oneLine()).toMatch(/^m\.yaml:\d+:12: expected true or false/);
  });

  it("points a missing key at its mapping", () => {
    const e = errorOf(GOOD.replace("    description: HVM utc\n", ""));
    expect(e.pos).toMatchObject({ line: 5, column: 5 });
    expect(e.message).toMatch(/missing key 'description'/);
  });

  it("refuses an unknown libvirt version at its line", () => {
    const e = errorOf(GOOD.replace('libvirt: ["0.9.10", "0.9.11"]', 'libvirt:\n  - "0.9.10"\n  - "0.0.1"'));
    expect(e.pos).toMatchObject({ line: 5, column: 5 });
    expect(e.message).toMatch(/no profile covers libvirt 0\.0\.1/);
  });

  it("refuses duplicate scenario ids at the second one", () => {
    const e = errorOf(GOOD + "  - id: hvm-utc\n    description: again\n    domain: d/hvm.xml\n    steps: [define, read]\n");
    expect(e.pos).toMatchObject({ line: 14, column: 9 });
    expect(e.message).toMatch(/duplicate scenario id 'hvm-utc'/);
  });

  it("refuses duplicate YAML keys and YAML syntax errors with positions", () => {
    const dup = errorOf(GOOD.replace("name: small\n", "name: small\nname: again\n"));
    expect(dup.code).toBe("input.yaml");
    expect(dup.pos?.line).toBe(2);
    const syn = errorOf(GOOD.replace("steps: [define, read]", "steps: [define, read"));
    expect(syn.code).toBe("input.yaml");
    expect(syn.pos?.line).toBeGreaterThan(0);
  });

  it("confines domain files to the project root and requires them to exist", () => {
    const out = errorOf(GOOD.replace("domain: d/hvm.xml", "domain: ../etc/passwd"));
    expect(out.pos).toMatchObject({ line: 7, column: 13 });
    expect(out.message).toMatch(/relative to the matrix file, inside its project/);
    const abs = errorOf(GOOD.replace("domain: d/hvm.xml", "domain: /etc/hostname"));
    expect(abs.message).toMatch(/inside its project/);
    const missing = errorOf(GOOD.replace("domain: d/hvm.xml", "domain: d/nope.xml"));
    expect(missing.message).toMatch(/does not exist/);
  });

  it("checks the order of steps and what checks need", () => {
    const e = errorOf(GOOD.replace("steps: [define, start, read]", "steps: [define, guest-poweroff, read]"));
    expect(e.message).toMatch(/'guest-poweroff' needs a running domain/);
    expect(e.pos?.line).toBe(12);
    const c = errorOf(GOOD.replace("steps: [define, start, read]", "steps: [define, read]"));
    expect(c.message).toMatch(/check 'effective-clock' needs a 'start' step/);
    const s = errorOf(GOOD.replace("steps: [define, read]\n  - id: pv-lt", "steps: [{guest-set-rtc: x}]\n  - id: pv-lt"));
    expect(s.message).toMatch(/expected a step/);
  });

  it("refuses include/exclude/expectation globs that match no cell, at their line", () => {
    const e = errorOf(GOOD + "exclude: ['*/0.9.11/hvm-*', '*/1.0.0/*']\n");
    expect(e.pos).toMatchObject({ line: 14, column: 29 });
    expect(e.message).toMatch(/glob '\*\/1\.0\.0\/\*' matches no cell/);
    const x = errorOf(GOOD + "expectations:\n  - cells: '3.2/*/nothing'\n    verdict: changed\n    reason: r\n    fixedBy: abcdef1\n");
    expect(x.message).toMatch(/matches no cell/);
  });

  it("requires a commit or report reference for a known problem", () => {
    const e = errorOf(GOOD + "expectations:\n  - cells: '3.2/*/hvm-utc'\n    verdict: changed\n    reason: r\n");
    expect(e.message).toMatch(/needs fixedBy \(commit\) or report/);
    expect(e.pos?.line).toBe(15);
  });

  it("reports every problem, first in the message, all in matrixProblems", () => {
    const e = errorOf(GOOD.replace("name: small", "name: Small!").replace("steps: [define, read]", "steps: 3"));
    const ps = matrixProblems(e);
    expect(ps.length).toBe(2);
    expect(ps.map((p) => p.pos.line)).toEqual([1, 8]);
    expect(e.message).toMatch(/and 1 more problem/);
  });

  it("names an unreadable matrix file", () => {
    expect(() => loadMatrix("/nonexistent/m.yaml")).toThrow(/cannot read matrix file/);
  });

  it("loads the shipped default matrix", () => {
    const m = loadMatrix(path.join(__dirname, "..", "matrices", "default.yaml"));
    expect(m.xend).toEqual(["3.2", "3.4.3", "4.1.2"]);
    expect(m.libvirt).toEqual(["0.8.7", "0.9.10", "0.9.11", "1.3.1", "0.8.7+rfc-localtime"]);
    for (const id of [
      "pv-utc",
      "pv-localtime",
      "pv-localtime-bootloader",
      "hvm-utc",
      "hvm-localtime",
      "hvm-adjust-utc-3600",
      "hvm-adjust-localtime-m7200",
      "hvm-timezone",
      "hvm-guest-sets-rtc",
      "hvm-utc-start",
      "pv-utc-start",
      "hvm-localtime-guest-sets-rtc-restart",
      "pv-args-special",
    ])
      expect(m.scenarios.map((s) => s.id)).toContain(id);
    const rtc = m.scenarios.find((s) => s.id === "hvm-guest-sets-rtc")!;
    expect(rtc.intent).toMatchObject({ base: "utc", adjustment: 3600 });
  });
});
