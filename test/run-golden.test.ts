import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkGolden, flushGoldens, goldenDigest, goldenPath, isCI, lineDiff, obsoleteGoldens, readIndex, runCells, type CellResult } from "../harness/run/index.js";
import { isHarnessError } from "../harness/errors.js";
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

describe("goldens and xend's documented race (harness/run/races.ts)", () => {
  const root = path.join(__dirname, "..");
  const shipped = path.join(root, "fixtures", "recordings");
  const haveRecordings = ["3.2", "3.4.3"].every((v) => fs.existsSync(path.join(shipped, v, "0.9.11", "hvm-guest-sets-rtc.yaml")));

  /** A recordings dir holding the shipped recording of `cell` with its read-back's rtc_timeoffset set to `value`. */
  function recordingWith(xend: string, value: string, libvirt: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-race-"));
    const rel = path.join(xend, libvirt.replace("+", "%2B"), "hvm-guest-sets-rtc.yaml");
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    const text = fs.readFileSync(path.join(shipped, rel), "utf8");
    const lines = text.split("\n");
    // only the read step's reply (a "(domain ..." body), not the config libvirt sent
    const i = lines.findIndex((l) => /^\s+body: "\(domain /.test(l) && /\(rtc_timeoffset \d+\)/.test(l));
    expect(i).toBeGreaterThan(0);
    lines[i] = lines[i].replace(/\(rtc_timeoffset \d+\)/, `(rtc_timeoffset ${value})`);
    fs.writeFileSync(path.join(dir, rel), lines.join("\n"));
    return dir;
  }

  async function replay(xend: string, value: string, libvirt = "0.9.11"): Promise<CellResult> {
    const { execute } = await import("../harness/run/index.js");
    const ex = await execute({ cwd: root, env: {}, xend: [xend], libvirt: [libvirt], scenario: "hvm-guest-sets-rtc", recordingsDir: recordingWith(xend, value, libvirt), golden: { update: false } });
    return ex.results[0];
  }

  it.skipIf(!haveRecordings)("3.2/*/hvm-guest-sets-rtc: the golden (10800) accepts the racy 0 and shows it as the race; the verdict is changed either way (skipped: no recordings)", async () => {
    const r = await replay("3.2", "0");
    expect(r.observation.rtcTimeoffsetPaths).toEqual([{ path: "/domain/image/hvm/rtc_timeoffset", value: "0" }]);
    expect(r.observation.clockAfter?.description).toBe("utc");
    expect(r.verdict).toBe("changed");
    expect(r.golden).toMatchObject({ status: "match" });
    expect(r.golden?.detail).toMatch(/race of xend \(rtc_timeoffset 0 in this run, 10800 in the golden: xend 3\.2\.2's watch thread/);
    expect(r.outcome).toBe("xfail");
    // every libvirt version of the default matrix: the racy 0 matches its golden and stays changed
    for (const libvirt of ["0.8.7", "0.8.7+rfc-localtime", "0.9.10", "1.3.1"]) {
      const x = await replay("3.2", "0", libvirt);
      expect([libvirt, x.verdict, x.golden?.status, x.outcome]).toEqual([libvirt, "changed", "match", "xfail"]);
    }
  });

  it.skipIf(!haveRecordings)("masks nothing else: another value in that cell, or 0 in a cell without the race, still differs from the golden (skipped: no recordings)", async () => {
    const other = await replay("3.2", "7200");
    expect(other.golden?.status).toBe("mismatch");
    expect(other.outcome).toBe("fail");
    const elsewhere = await replay("3.4.3", "0");
    expect(elsewhere.observation.rtcTimeoffsetPaths.map((p) => p.value)).toEqual(["0"]);
    expect(elsewhere.golden?.status).toBe("mismatch");
    expect(elsewhere.outcome).toBe("fail");
  });

  it("raceAlternatives swaps only the race's outcomes, only in its cells", async () => {
    const { raceAlternatives } = await import("../harness/run/index.js");
    const sx = "(domain (image (hvm (localtime 0) (rtc_timeoffset 10800))))";
    expect(raceAlternatives("3.2/0.9.11/hvm-guest-sets-rtc", sx).map((a) => a.sxpr)).toEqual(["(domain (image (hvm (localtime 0) (rtc_timeoffset 0))))"]);
    expect(raceAlternatives("3.2/0.9.11/hvm-guest-sets-rtc", sx.replace("10800", "0")).map((a) => a.to)).toEqual(["10800", "3600"]);
    expect(raceAlternatives("3.2/0.9.11/hvm-guest-sets-rtc", sx.replace("10800", "7200"))).toEqual([]);
    expect(raceAlternatives("3.4.3/0.9.11/hvm-guest-sets-rtc", sx)).toEqual([]);
    expect(raceAlternatives("3.2/0.9.11/hvm-utc", sx)).toEqual([]);
  });
});

// Content-addressed goldens (what `run` writes): objects/<digest>.txt once per distinct text, index/<matrix>.tsv.
const MATRIX2 = MATRIX.replace('libvirt: ["0.9.11"]', 'libvirt: ["0.9.11", "0.9.12"]');

async function runIndexed(dir: string, opts: { update?: boolean; ci?: boolean; xend?: FakeXend } = {}): Promise<CellResult[]> {
  const golden = { dir, update: Boolean(opts.update), ci: Boolean(opts.ci), index: "g" };
  const rs = await runCells(cellsOf(MATRIX2, FILES), {
    backendFor: async () => opts.xend ?? new FakeXend(),
    profileFor: () => toyProfile(),
    golden,
  });
  flushGoldens(golden);
  return rs;
}

const objects = (dir: string) => fs.readdirSync(path.join(dir, "objects")).sort();

describe("content-addressed goldens", () => {
  it("cells that observe the same share one file ({name} for each cell's own domain); one index line per cell; the next run matches, also under CI", async () => {
    const dir = goldenDir();
    const rs = await runIndexed(dir, { update: true });
    expect(rs.map((r) => r.golden?.status)).toEqual(["written", "written", "written", "written"]);
    // two libvirt versions define differently named domains, yet observe the same: 2 files for 4 cells
    expect(objects(dir)).toHaveLength(2);
    const index = readIndex(path.join(dir, "index", "g.tsv"));
    expect([...index.keys()].sort()).toEqual(["4.1.2/0.9.11/hvm-lt", "4.1.2/0.9.11/hvm-var", "4.1.2/0.9.12/hvm-lt", "4.1.2/0.9.12/hvm-var"]);
    expect(index.get("4.1.2/0.9.11/hvm-lt")).toBe(index.get("4.1.2/0.9.12/hvm-lt"));
    const text = fs.readFileSync(path.join(dir, "objects", `${index.get("4.1.2/0.9.11/hvm-lt")}.txt`), "utf8");
    expect(goldenDigest(text)).toBe(index.get("4.1.2/0.9.11/hvm-lt"));
    expect(text).toContain("sxpr sent:\n    (vm (name {name}) (localtime 1))");
    expect(text).not.toMatch(/v0911|v0912|cell 4\.1\.2|profile:/);
    const again = await runIndexed(dir, { ci: true });
    expect(again.map((r) => [r.golden?.status, r.golden?.file])).toEqual(rs.map((r) => ["match", r.golden?.file]));
    expect(again[0].outcome).toBe("pass");
  });

  it("a cell whose observation changed fails with a diff against its file; --update-golden points it at the new text and removes the file no index names", async () => {
    const dir = goldenDir();
    await runIndexed(dir, { update: true });
    const before = objects(dir);
    const changed = new FakeXend("4.1.2", { readBack: (c) => c.replace("(localtime 1)", "(localtime 0)").replace(/^\(vm/, "(domain") });
    const rs = await runIndexed(dir, { xend: changed });
    expect(rs[0].golden?.status).toBe("mismatch");
    expect(rs[0].golden?.diff).toContain("-     /domain/localtime 1\n+     /domain/localtime 0");
    expect(rs[0].outcome).toBe("fail");
    const upd = await runIndexed(dir, { xend: changed, update: true });
    expect(upd[0].golden).toMatchObject({ status: "written", detail: "updated" });
    // hvm-lt's old text is named by no index line any more: gone; hvm-var's stays
    expect(objects(dir)).toHaveLength(2);
    expect(objects(dir).filter((f) => before.includes(f))).toHaveLength(1);
    expect(obsoleteGoldens(dir, ["4.1.2/0.9.11/hvm-lt", "4.1.2/0.9.11/hvm-var", "4.1.2/0.9.12/hvm-lt", "4.1.2/0.9.12/hvm-var"], "g")).toEqual([]);
  });

  it("a file edited by hand is bad input naming it, never a silent match; --update-golden puts the text back", async () => {
    const dir = goldenDir();
    await runIndexed(dir, { update: true });
    const f = path.join(dir, "objects", objects(dir)[0]);
    fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace("verdict: ", "verdict: edited "));
    const err = await runIndexed(dir, { ci: true }).catch((e: unknown) => e);
    expect(isHarnessError(err, "input")).toBe(true);
    expect((err as Error).message).toMatch(/objects\/[0-9a-f]{16}\.txt does not hold the text its name says/);
    await runIndexed(dir, { update: true });
    expect(goldenDigest(fs.readFileSync(f, "utf8"))).toBe(path.basename(f, ".txt"));
  });

  it("per-cell goldens of the older layout are still compared, and --update-golden moves them into the index", async () => {
    const dir = goldenDir();
    await run(dir, { update: true }); // per-cell files for 0.9.11
    const old = path.join(dir, "4.1.2", "0.9.11", "hvm-lt.txt");
    expect(fs.existsSync(old)).toBe(true);
    const rs = await runIndexed(dir);
    expect(rs.map((r) => r.golden?.status)).toEqual(["match", "match", "missing", "missing"]);
    expect(rs[0].golden?.detail).toMatch(/per-cell golden/);
    await runIndexed(dir, { update: true });
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(path.join(dir, "4.1.2"))).toBe(false);
    expect(readIndex(path.join(dir, "index", "g.tsv")).size).toBe(4);
    expect(objects(dir)).toHaveLength(2);
  });

  it("lists as obsolete the index lines of cells the matrix no longer has and the files no index names", async () => {
    const dir = goldenDir();
    await runIndexed(dir, { update: true });
    fs.writeFileSync(path.join(dir, "objects", "0123456789abcdef.txt"), "x");
    expect(obsoleteGoldens(dir, ["4.1.2/0.9.11/hvm-lt", "4.1.2/0.9.11/hvm-var", "4.1.2/0.9.12/hvm-lt"], "g")).toEqual(["index/g.tsv: 4.1.2/0.9.12/hvm-var", "objects/0123456789abcdef.txt"]);
  });

  it("a malformed index line is bad input naming the file and line", () => {
    const dir = goldenDir();
    fs.mkdirSync(path.join(dir, "index"), { recursive: true });
    fs.writeFileSync(path.join(dir, "index", "g.tsv"), "# header\n4.1.2/0.9.11/hvm-lt\tnot-a-digest\n");
    expect(() => readIndex(path.join(dir, "index", "g.tsv"))).toThrow(/g\.tsv:2: expected/);
  });
});
