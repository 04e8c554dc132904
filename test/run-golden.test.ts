import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkGolden, goldenPath, isCI, lineDiff, obsoleteGoldens, runCells, type CellResult } from "../harness/run/index.js";
import { cellsOf, domainXml, FakeXend, toyProfile } from "./fakes/run-fakes.js";

const FILES = { "d/lt.xml": domainXml("lt", "<clock offset='localtime'/>"), "d/var.xml": domainXml("v", "<clock offset='variable' adjustment='1' basis='utc'/>") };
const MATRIX = `name: g
xend: ["4.1.2"]
libvirt: ["0.9.11"]
scenarios:
  - {id: hvm-lt, description: d, domain: d/lt.xml, steps: [define, read]}
  - {id: hvm-var, description: d, domain: d/var.xml, steps: [define, read]}
`;

function goldenDir(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xc-golden-")), "fixtures", "golden");
}

async function run(dir: string, opts: { update?: boolean; ci?: boolean; xend?: FakeXend } = {}): Promise<CellResult[]> {
  return runCells(cellsOf(MATRIX, FILES), {
    backendFor: async () => opts.xend ?? new FakeXend(),
    profileFor: () => toyProfile(),
    golden: { dir, update: Boolean(opts.update), ci: Boolean(opts.ci) },
  });
}

describe("goldens", () => {
  it("a missing golden is reported (not failed) outside CI, and fails under CI", async () => {
    const dir = goldenDir();
    const rs = await run(dir);
    expect(rs[0].golden).toMatchObject({ status: "missing", file: "fixtures/golden/4.1.2/0.9.11/hvm-lt.txt" });
    expect(rs[0].outcome).toBe("pass");
    const ci = await run(dir, { ci: true });
    expect(ci[0].outcome).toBe("fail");
    expect(ci[0].outcomeReason).toMatch(/no golden .*CI/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it("--update-golden writes one stable text per cell atomically; the next run matches", async () => {
    const dir = goldenDir();
    const rs = await run(dir, { update: true });
    expect(rs.map((r) => r.golden?.status)).toEqual(["written", "written"]);
    const file = goldenPath(dir, rs[0]);
    const text = fs.readFileSync(file, "utf8");
    expect(text).toContain("cell 4.1.2/0.9.11/hvm-lt");
    expect(text).toContain("sxpr sent:\n    (vm (name xc-hvm-lt-v0911) (localtime 1))");
    expect(text).toContain("returned localtime:\n    /domain/localtime 1");
    expect(text).toContain("clock after: <clock offset='localtime'/> = localtime");
    expect(text).toContain("verdict: preserved");
    expect(text).not.toMatch(/\d{4}-\d\d-\d\dT/); // no timestamps
    expect(fs.readdirSync(path.dirname(file)).filter((f) => f.includes(".tmp"))).toEqual([]);
    // the rejected cell has a golden too: libvirt's refusal is its observation
    expect(fs.readFileSync(goldenPath(dir, rs[1]), "utf8")).toContain("libvirt error: unsupported clock offset 'variable'");
    const again = await run(dir);
    expect(again.map((r) => r.golden?.status)).toEqual(["match", "match"]);
    expect(again[1].outcome).toBe("fail"); // rejected with no expectation
  });

  it("a changed observation fails with a diff; update rewrites it", async () => {
    const dir = goldenDir();
    await run(dir, { update: true });
    const changed = new FakeXend("4.1.2", { readBack: (c) => c.replace("(localtime 1)", "(localtime 0)").replace(/^\(vm/, "(domain") });
    const rs = await run(dir, { xend: changed });
    expect(rs[0].golden?.status).toBe("mismatch");
    expect(rs[0].golden?.diff).toContain("-     /domain/localtime 1\n+     /domain/localtime 0");
    expect(rs[0].outcome).toBe("fail");
    const upd = await run(dir, { xend: changed, update: true });
    expect(upd[0].golden).toMatchObject({ status: "written", detail: "updated" });
  });

  it("under CI nothing is written: --update-golden is refused as bad usage", async () => {
    const dir = goldenDir();
    await expect(run(dir, { update: true, ci: true })).rejects.toThrow(/refuses to write under CI/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it("error and skipped cells are not compared", () => {
    const r = { id: "4.1.2/0.9.11/x", xend: "4.1.2", libvirt: "0.9.11", scenario: "x", verdict: "error" } as CellResult;
    expect(checkGolden(r, { dir: goldenDir(), update: true, ci: false }).status).toBe("not-compared");
  });

  it("lists goldens no cell produces as obsolete", async () => {
    const dir = goldenDir();
    await run(dir, { update: true });
    fs.mkdirSync(path.join(dir, "3.2", "0.9.11"), { recursive: true });
    fs.writeFileSync(path.join(dir, "3.2", "0.9.11", "gone.txt"), "x");
    expect(obsoleteGoldens(dir, ["4.1.2/0.9.11/hvm-lt", "4.1.2/0.9.11/hvm-var"])).toEqual(["3.2/0.9.11/gone.txt"]);
  });

  it("CI is on for any non-empty CI except 0/false", () => {
    expect([undefined, "", "0", "false", "true", "1"].map((v) => isCI(v === undefined ? {} : { CI: v }))).toEqual([false, false, false, false, true, true]);
  });

  it("lineDiff shows removed and added lines", () => {
    expect(lineDiff("a\nb\nc", "a\nx\nc")).toBe("- b\n+ x");
  });
});
