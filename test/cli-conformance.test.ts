/**
 * `xend-compat conformance`: a release's own suite through its profile, from the shipped store or from
 * a suite directory anywhere (the layout of ../shared/libvirt-tests); counts, unified diffs, --json
 * (one entry per cases.tsv row), the release's compare and loader rules, and bad input as exit 2
 * naming the file.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main, type CliIO } from "../harness/cli.js";
import { unifiedDiff, type CaseResult } from "../harness/conformance/index.js";
import { captureIO } from "./support/cli-io.js";

const io = (cwd = process.cwd()) => captureIO(cwd);

const STORE = join(import.meta.dirname, "..", "fixtures", "libvirt-tests");

/** A shipped suite written out as a suite directory outside the package (5-column cases.tsv, as ../shared/libvirt-tests has). */
function suiteDir(tag: string, opts: { sixColumns?: boolean; suiteJson?: unknown } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), `xc-conf-${tag}-`));
  const m = JSON.parse(readFileSync(join(STORE, "releases", tag, "manifest.json"), "utf8")) as { files: Record<string, string> };
  for (const [file, sha] of Object.entries(m.files)) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), readFileSync(join(STORE, "blobs", sha)));
  }
  const tsv = readFileSync(join(STORE, "releases", tag, "cases.tsv"), "utf8");
  writeFileSync(join(dir, "cases.tsv"), opts.sixColumns ? tsv : tsv.split("\n").map((l) => l.split("\t").slice(0, 5).join("\t")).join("\n"));
  if (opts.suiteJson !== undefined) writeFileSync(join(dir, "suite.json"), JSON.stringify(opts.suiteJson));
  return dir;
}

/** A case of `conformance --json`: the runner's CaseResult as printed. */
type JsonCase = Omit<CaseResult, "line">;

describe("xend-compat conformance", () => {
  it("runs libvirt 0.9.11's shipped suite through its profile: counts per direction, the RHEL-5-only row skipped and counted", async () => {
    const o = io();
    const code = await main(["conformance", "--libvirt", "0.9.11"], o);
    expect(o.stderr).toBe("");
    expect(o.stdout).toContain("libvirt 0.9.11 (profile 0.9.11) on fixtures/libvirt-tests/releases/v0.9.11");
    expect(o.stdout).toMatch(/sexpr2xml: 51\/51 passed, all passed\n/);
    expect(o.stdout).toMatch(/xml2sexpr: 53\/53 passed, all passed, 1 skipped/);
    expect(code).toBe(0);
  });

  it("--json on a suite directory outside the package gives one entry per cases.tsv row, the same answers as the shipped suite", async () => {
    const dir = suiteDir("v1.1.3");
    const o = io(tmpdir());
    const code = await main(["conformance", "--libvirt", "1.1.3", dir, "--json"], o);
    const j = JSON.parse(o.stdout) as { libvirt: string; cases: JsonCase[] };
    expect(j.libvirt).toBe("1.1.3");
    const rows = readFileSync(join(dir, "cases.tsv"), "utf8").split("\n").slice(1).filter(Boolean).map((l) => l.split("\t"));
    expect(j.cases.map((c) => [c.direction, c.input, c.expected])).toEqual(rows.map((r) => [r[0], r[1], r[2]]));
    expect(j.cases.map((c) => c.xendConfigVersion)).toEqual(rows.map((r) => Number(r[3])));
    // the 5-column copy cannot say which row only RHEL 5 builds run: the release's own driver does
    const skipped = j.cases.filter((c) => c.ok === null);
    expect(skipped.map((c) => `${c.input} -> ${c.expected}`)).toEqual(["xml2sexpr-pv-vfb-orig.xml -> xml2sexpr-pv-vfb-new.sexpr"]);
    expect(skipped[0].skipped).toContain("WITH_RHEL5_API");
    for (const c of j.cases) if (c.ok === false) expect(c.diff).toBeTruthy();
    const shipped = io();
    const shippedCode = await main(["conformance", "--libvirt", "1.1.3", "--json"], shipped);
    expect((JSON.parse(shipped.stdout) as { cases: JsonCase[] }).cases.map((c) => c.ok)).toEqual(j.cases.map((c) => c.ok));
    expect(code).toBe(shippedCode);
    expect(code).toBe(j.cases.some((c) => c.ok === false) ? 1 : 0);
  });

  it("a changed expected file is a mismatch: exit 1 and a unified diff naming the file", async () => {
    const dir = suiteDir("v0.9.11", { sixColumns: true });
    const f = join(dir, "sexpr2xmldata", "sexpr2xml-pv.xml");
    writeFileSync(f, readFileSync(f, "utf8").replace("<vcpu>2</vcpu>", "<vcpu>3</vcpu>"));
    const o = io();
    const code = await main(["conformance", "--libvirt", "0.9.11", dir], o);
    expect(code).toBe(1);
    expect(o.stdout).toMatch(/sexpr2xml: 49\/51 passed, 2 failed/);
    expect(o.stdout).toContain("--- sexpr2xmldata/sexpr2xml-pv.xml (libvirt's expected)");
    expect(o.stdout).toContain("-  <vcpu>3</vcpu>\n+  <vcpu>2</vcpu>\n");
  });

  it("escapes control characters from the suite's files in the human output (a diff cannot drive the terminal)", async () => {
    const dir = suiteDir("v0.9.11", { sixColumns: true });
    const f = join(dir, "sexpr2xmldata", "sexpr2xml-pv.xml");
    writeFileSync(f, readFileSync(f, "utf8").replace("<vcpu>2</vcpu>", "<vcpu>\u001b[2J2</vcpu>"));
    const o = io();
    expect(await main(["conformance", "--libvirt", "0.9.11", dir], o)).toBe(1);
    expect(o.stdout).not.toContain("\u001b");
    expect(o.stdout).toContain("-  <vcpu>\\x1b[2J2</vcpu>");
  });

  it("compares as the release's drivers do: v4.5.0's virTestCompareToFile tolerates the missing final newline, an exact comparison does not", async () => {
    const tolerant = io();
    expect(await main(["conformance", "--libvirt", "4.5.0", suiteDir("v4.5.0")], tolerant)).toBe(0);
    expect(tolerant.stdout).toContain("compare: sexpr2xml file, xml2sexpr file");
    const exact = io();
    const dir = suiteDir("v4.5.0", { suiteJson: { compare: { sexpr2xml: "exact", xml2sexpr: "exact" }, loader: { stripContinuations: true, maxBytes: null } } });
    expect(await main(["conformance", "--libvirt", "4.5.0", dir, "--json"], exact)).toBe(1);
    const cases = (JSON.parse(exact.stdout) as { cases: JsonCase[] }).cases;
    const failed = cases.filter((c) => c.ok === false);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((c) => c.direction === "xml2sexpr" && c.diff!.includes("\\ No newline at end of file"))).toBe(true);
  });

  it("applies the loader rule: without removing backslash-newline pairs, libvirt's multi-line SXPR files differ", async () => {
    const dir = suiteDir("v0.9.11", { suiteJson: { compare: { sexpr2xml: "exact", xml2sexpr: "exact" }, loader: { stripContinuations: false, maxBytes: null } } });
    const o = io();
    expect(await main(["conformance", "--libvirt", "0.9.11", dir, "--json"], o)).toBe(1);
    const failed = (JSON.parse(o.stdout) as { cases: JsonCase[] }).cases.filter((c) => c.ok === false);
    expect(failed.length).toBeGreaterThan(0);
  });

  describe("bad input: exit 2, one line naming the file or argument", () => {
    const run = async (argv: string[]) => {
      const o = io();
      const code = await main(argv, o);
      return { code, err: o.stderr.trim(), out: o.stdout };
    };
    it("an unknown version", async () => {
      const r = await run(["conformance", "--libvirt", "9.9.9"]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/9\.9\.9/);
    });
    it("no --libvirt", async () => {
      expect((await run(["conformance"])).code).toBe(2);
    });
    it("a directory without cases.tsv", async () => {
      const dir = mkdtempSync(join(tmpdir(), "xc-conf-empty-"));
      const r = await run(["conformance", "--libvirt", "0.9.11", dir]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(join(dir, "cases.tsv"));
      expect(r.err.split("\n")).toHaveLength(1);
    });
    it("a malformed cases.tsv row, named by file and line", async () => {
      const dir = suiteDir("v0.9.11");
      const f = join(dir, "cases.tsv");
      const lines = readFileSync(f, "utf8").split("\n");
      lines[3] = lines[3].replace("\t2\t", "\ttwo\t");
      writeFileSync(f, lines.join("\n"));
      const r = await run(["conformance", "--libvirt", "0.9.11", dir]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`${f}:4:`);
      expect(r.err).toContain("xend_config_version");
    });
    it("a data file cases.tsv names but the directory lacks", async () => {
      const dir = suiteDir("v0.9.11");
      const f = join(dir, "cases.tsv");
      writeFileSync(f, readFileSync(f, "utf8") + "sexpr2xml\tsexpr2xml-nothere.sexpr\tsexpr2xml-nothere.xml\t2\t-\n");
      const r = await run(["conformance", "--libvirt", "0.9.11", dir]);
      expect(r.code).toBe(2);
      expect(r.err).toContain("sexpr2xml-nothere");
      expect(r.err).toContain("missing");
    });
    it("a malformed suite.json", async () => {
      const dir = suiteDir("v0.9.11", { suiteJson: { compare: { sexpr2xml: "fuzzy", xml2sexpr: "exact" } } });
      const r = await run(["conformance", "--libvirt", "0.9.11", dir]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(join(dir, "suite.json"));
    });
    it("--all with --libvirt", async () => {
      expect((await run(["conformance", "--all", "--libvirt", "0.9.11"])).code).toBe(2);
    });
  });

  it("--all --json: one entry per shipped release, each through its own release's profile or with the reason it has none", async () => {
    const o = io();
    const code = await main(["conformance", "--all", "--json"], o);
    const j = JSON.parse(o.stdout) as { releases: { tag: string; profile: string | null; error?: string; failed: string[]; sexpr2xml: { ok: number; total: number } | null }[] };
    expect(j.releases.length).toBeGreaterThanOrEqual(158);
    const v0911 = j.releases.find((r) => r.tag === "v0.9.11")!;
    expect(v0911.profile).toBe("0.9.11");
    expect(v0911.failed).toEqual([]);
    expect(v0911.sexpr2xml).toMatchObject({ ok: 51, total: 51 });
    for (const r of j.releases) expect(Boolean(r.profile) !== Boolean(r.error)).toBe(true);
    expect(code).toBe(j.releases.some((r) => r.error || r.failed.length) ? 1 : 0);
  });
});

describe("unifiedDiff", () => {
  it("gives hunks with context and line numbers", () => {
    const a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    const b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
    expect(unifiedDiff(a, b, "a", "b")).toBe("--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
  });
  it("shows a missing final newline", () => {
    expect(unifiedDiff("x\n", "x", "a", "b")).toBe("--- a\n+++ b\n@@ -1,1 +1,1 @@\n-x\n+x\n\\ No newline at end of file\n");
  });
  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", "a", "b")).toBe("");
  });
});
