/**
 * src:DIR without building anything: recognising a libvirt tree, refusing what cannot be built (one
 * clear error, exit 2, never a model instead), reading a tree's own suite from its test drivers, the
 * cache copy's sync, and the driver process's crash/hang handling (with a stand-in program).
 */
import { chmodSync, existsSync, readlinkSync, symlinkSync, mkdirSync, mkdtempSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../harness/cli.js";
import { isHarnessError } from "../harness/errors.js";
import { DriverProcess, forgetSourceProfiles, inspectTree, installCommand, missingPackages, readTreeSuite, resolveSourceProfile, syncTree, suiteFromTree } from "../harness/libvirt/build/index.js";
import { resolveProfile } from "../harness/libvirt/index.js";
import { captureIO } from "./support/cli-io.js";

const io = () => captureIO(process.cwd(), {});

/** A directory shaped like a libvirt tree of `version` (our own minimal stand-in files). */
function fakeTree(version: string, opts: { sxpr?: "xenxs" | "xenconfig" | "none"; gnulib?: boolean } = {}): string {
  const d = mkdtempSync(join(tmpdir(), "xc-tree-"));
  writeFileSync(join(d, "configure.ac"), `AC_INIT([libvirt], [${version}], [list@example.org], [], [http://example.org])\n`);
  const sx = opts.sxpr ?? "xenxs";
  if (sx !== "none") {
    mkdirSync(join(d, "src", sx), { recursive: true });
    writeFileSync(join(d, "src", sx, "xen_sxpr.c"), "/* stand-in */\n");
    writeFileSync(join(d, "src", sx, "xen_sxpr.h"), "enum { XEND_CONFIG_VERSION_3_0_2 = 1, XEND_CONFIG_VERSION_3_1_0 = 4 };\n");
  }
  if (opts.gnulib !== false) {
    mkdirSync(join(d, ".gnulib"));
    writeFileSync(join(d, ".gnulib", "gnulib-tool"), "#!/bin/sh\n");
  }
  mkdirSync(join(d, "tests"));
  return d;
}

afterEach(() => forgetSourceProfiles());

describe("src:DIR: recognising the tree", () => {
  it("reads the release from configure.ac and where its SXPR code lives", () => {
    const d = fakeTree("0.9.11");
    const t = inspectTree(d, "/");
    expect(t.version).toBe("0.9.11");
    expect(t.sxprHome).toBe("xenxs/xen_sxpr.c");
    expect(t.hasXendClient).toBe(false);
    expect(t.commit).toBeNull();
  });

  it("a built profile resolves with the tree's release, and replays as that release's model", () => {
    const d = fakeTree("0.9.11");
    const p = resolveProfile(`src:${d}`);
    expect(p.id).toBe("src:0.9.11@nogit");
    expect(p.replayAs).toBe(resolveProfile("0.9.11").id);
    expect(p.label).toContain("libvirt 0.9.11 built from src:");
    expect(typeof p.prepare).toBe("function");
  });

  it.each([
    ["not a libvirt tree", () => mkdtempSync(join(tmpdir(), "xc-not-")), /not a libvirt source tree/],
    ["a release without the SXPR code (5.6.0+)", () => fakeTree("5.6.0", { sxpr: "none" }), /has no Xen SXPR code .*removed in 5\.6\.0/],
    ["a tree without gnulib", () => fakeTree("0.9.11", { gnulib: false }), /no gnulib in .*--gnulib DIR/],
  ])("refuses %s: one clear error, exit 2, no model instead", async (_what, make, re) => {
    const d = make();
    expect(() => resolveSourceProfile(`src:${d}`, () => undefined)).toThrow(re);
    const o = io();
    const code = await main(["convert", "--libvirt", `src:${d}`, "--to", "sxpr", "fixtures/domains/pv-utc.xml"], o);
    expect(code).toBe(2);
    expect(o.stdout).toBe("");
    expect(o.stderr.trim().split("\n")).toHaveLength(1);
    expect(o.stderr).toMatch(re);
  });

  it("a missing directory is named", () => {
    try {
      inspectTree("/nonexistent/libvirt", "/");
      expect.unreachable();
    } catch (e) {
      expect(isHarnessError(e, "input.tree")).toBe(true);
      expect((e as Error).message).toMatch(/src:\/nonexistent\/libvirt: no such directory/);
    }
  });

  it("--gnulib DIR stands in for a missing .gnulib", () => {
    const d = fakeTree("0.9.11", { gnulib: false });
    const g = mkdtempSync(join(tmpdir(), "xc-gnulib-"));
    writeFileSync(join(g, "gnulib-tool"), "#!/bin/sh\n");
    expect(inspectTree(d, "/", g).gnulib).toBe(g);
  });
});

describe("src:DIR: the tree's own suite", () => {
  const S2X = `struct testInfo { const char *input; const char *output; int version; };
#define DO_TEST(in, out, version) \\
    do { struct testInfo info = { in, out, version }; run(&info); } while (0)
int mymain(void) {
    DO_TEST("pv", "pv", 1);
    DO_TEST("fv-localtime", "fv-localtime", XEND_CONFIG_VERSION_3_1_0);
#ifdef WITH_RHEL5_API
    DO_TEST("only-rhel", "only-rhel", 2);
#else
    DO_TEST("default", "default", 2);
#endif
    /* DO_TEST("commented", "out", 1); */
    return 0;
}
`;
  const X2S = `struct testInfo { const char *input; const char *output; const char *name; int version; };
#define DO_TEST(in, out, name, version) \\
    do { struct testInfo info = { in, out, name, version }; run(&info); } while (0)
int mymain(void) {
    DO_TEST("pv", "pv", "pvtest", 1);
    return virtTestCompareToFile(a, b);
}
`;

  it("reads the DO_TEST rows in order, the default build's branch, named config versions, and the compare rule", () => {
    const d = fakeTree("0.9.11");
    writeFileSync(join(d, "tests/sexpr2xmltest.c"), S2X);
    writeFileSync(join(d, "tests/xml2sexprtest.c"), X2S);
    writeFileSync(join(d, "tests/testutils.c"), "/* remove trailing backslash-newline pair */\n");
    const s = readTreeSuite(d);
    expect(s.cases.map((c) => [c.direction, c.input, c.expected, c.version, c.name])).toEqual([
      ["sexpr2xml", "sexpr2xml-pv.sexpr", "sexpr2xml-pv.xml", 1, "-"],
      ["sexpr2xml", "sexpr2xml-fv-localtime.sexpr", "sexpr2xml-fv-localtime.xml", 4, "-"],
      ["sexpr2xml", "sexpr2xml-default.sexpr", "sexpr2xml-default.xml", 2, "-"],
      ["xml2sexpr", "xml2sexpr-pv.xml", "xml2sexpr-pv.sexpr", 1, "pvtest"],
    ]);
    expect(s.stripContinuations).toBe(true);
    expect(s.compare).toEqual({ sexpr2xml: "exact", xml2sexpr: "file" });
  });

  it("writes a suite directory in the layout of the shipped suites", () => {
    const d = fakeTree("0.9.11");
    writeFileSync(join(d, "tests/sexpr2xmltest.c"), S2X);
    writeFileSync(join(d, "tests/xml2sexprtest.c"), X2S);
    mkdirSync(join(d, "tests/sexpr2xmldata"));
    mkdirSync(join(d, "tests/xml2sexprdata"));
    writeFileSync(join(d, "tests/sexpr2xmldata/sexpr2xml-pv.sexpr"), "(domain)");
    const out = mkdtempSync(join(tmpdir(), "xc-suite-"));
    suiteFromTree(inspectTree(d, "/"), out);
    const tsv = readFileSync(join(out, "cases.tsv"), "utf8").split("\n");
    expect(tsv[0]).toBe("direction\tinput\texpected\txend_config_version\tdomain_name\tbuild_condition");
    expect(tsv[1]).toBe("sexpr2xml\tsexpr2xml-pv.sexpr\tsexpr2xml-pv.xml\t1\t-\t-");
    expect(readFileSync(join(out, "sexpr2xmldata/sexpr2xml-pv.sexpr"), "utf8")).toBe("(domain)");
    expect(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"))).toMatchObject({ version: "0.9.11", compare: { xml2sexpr: "file" } });
    expect(JSON.parse(readFileSync(join(out, "suite.json"), "utf8"))).toEqual({ compare: { sexpr2xml: "exact", xml2sexpr: "file" }, loader: { stripContinuations: false, maxBytes: null } });
  });
});

describe("src:DIR: the build copy", () => {
  it("copies only changed files, gives them a new time, and removes files the tree dropped", () => {
    const d = fakeTree("0.9.11");
    writeFileSync(join(d, "src/xenxs/xen_sxpr.c"), "one\n");
    const copy = mkdtempSync(join(tmpdir(), "xc-copy-"));
    const t = inspectTree(d, "/");
    const m = { files: {} as Record<string, string>, gnulib: t.gnulib, configured: false, testedKey: null };
    const first = syncTree(t, copy, m);
    expect(first.copied).toBeGreaterThan(3);
    expect(first.reconfigure).toBe(true);
    const again = syncTree(t, copy, m);
    expect([again.copied, again.removed, again.key]).toEqual([0, 0, first.key]);
    writeFileSync(join(d, "src/xenxs/xen_sxpr.c"), "two\n");
    utimesSync(join(d, "src/xenxs/xen_sxpr.c"), new Date(2000, 1, 1), new Date(2000, 1, 1));
    const changed = syncTree(t, copy, m);
    expect([changed.copied, changed.reconfigure]).toEqual([1, false]);
    expect(readFileSync(join(copy, "src/xenxs/xen_sxpr.c"), "utf8")).toBe("two\n");
    expect(Date.now() - statSync(join(copy, "src/xenxs/xen_sxpr.c")).mtimeMs).toBeLessThan(60_000);
    unlinkSync(join(d, "src/xenxs/xen_sxpr.h"));
    const removed = syncTree(t, copy, m);
    expect(removed.removed).toBe(1);
    expect(existsSync(join(copy, "src/xenxs/xen_sxpr.h"))).toBe(false);
    // Links stay links (libvirt's test data has links to directories).
    symlinkSync("../src", join(d, "tests/to-src"));
    expect(syncTree(t, copy, m).copied).toBe(1);
    expect(readlinkSync(join(copy, "tests/to-src"))).toBe("../src");
  });
});

describe("src:DIR: the driver process", () => {
  /** A stand-in driver speaking the protocol: crashes on "crash", hangs on "hang", else echoes. */
  function standIn(): string {
    const d = mkdtempSync(join(tmpdir(), "xc-drv-"));
    const f = join(d, "drv.sh");
    writeFileSync(
      f,
      `#!/bin/bash
echo "ready 9.9.9"
while read -r cmd arg len; do
  body=$(head -c "$len")
  case "$body" in
    crash) kill -SEGV $$ ;;
    hang) sleep 30 ;;
    refuse) printf 'err 21\\nunsupported something' ;;
    *) printf 'ok %d\\n%s' "\${#body}" "$body" ;;
  esac
done
`,
    );
    chmodSync(f, 0o755);
    return f;
  }

  it("a crash fails that request with the signal, a hang is killed, and the next request gets a fresh process", async () => {
    const p = new DriverProcess(standIn(), 1500);
    expect(await p.request("to-sxpr", 4, "abc")).toEqual({ kind: "ok", text: "abc" });
    await expect(p.request("to-sxpr", 4, "crash")).rejects.toThrow(/crashed during this conversion: the driver process was killed by SIGSEGV/);
    expect(await p.request("to-xml", 1, "after")).toEqual({ kind: "ok", text: "after" });
    await expect(p.request("to-xml", 1, "hang")).rejects.toThrow(/did not answer within 1500 ms/);
    expect(await p.request("to-xml", 1, "again")).toEqual({ kind: "ok", text: "again" });
    expect(await p.request("to-xml", 1, "refuse")).toEqual({ kind: "err", text: "unsupported something" });
    expect(p.starts).toBe(3);
    p.close();
  });
});

describe("src:DIR: a build that fails", () => {
  it("is one error naming the cause and the log with its last lines, exit 2, before any cell runs", { timeout: 60_000 }, async () => {
    const d = fakeTree("0.9.11");
    writeFileSync(join(d, "bootstrap"), "#!/bin/sh\necho 'stand-in bootstrap: failing on purpose' >&2\nexit 1\n");
    chmodSync(join(d, "bootstrap"), 0o755);
    const cache = mkdtempSync(join(tmpdir(), "xc-cache-"));
    const o = io();
    o.env = { ...process.env, XEND_COMPAT_BUILD_CACHE: cache };
    const prev = process.env.XEND_COMPAT_BUILD_CACHE;
    const prevIn = process.env.XEND_COMPAT_BUILD_IN;
    process.env.XEND_COMPAT_BUILD_CACHE = cache;
    // On the host: a machine without the packages is then refused for them (never sent to a container).
    process.env.XEND_COMPAT_BUILD_IN = "host";
    try {
      const code = await main(["run", "--libvirt", `src:${d}`, "--xend", "4.1.2", "--scenario", "pv-utc"], o);
      expect(code).toBe(2);
      const missing = missingPackages("0.9.11");
      if (missing.length) {
        // A machine without the build packages: they are named with the one install command.
        expect(o.stderr).toContain(installCommand(missing));
      } else {
        expect(o.stderr).toMatch(/libvirt 0\.9\.11 from .*: the bootstrap step failed \(exit 1\); log: .*build\.log; last lines:/);
        expect(o.stderr).toContain("stand-in bootstrap: failing on purpose");
      }
      expect(o.stdout).toBe("");
    } finally {
      if (prev === undefined) delete process.env.XEND_COMPAT_BUILD_CACHE;
      else process.env.XEND_COMPAT_BUILD_CACHE = prev;
      if (prevIn === undefined) delete process.env.XEND_COMPAT_BUILD_IN;
      else process.env.XEND_COMPAT_BUILD_IN = prevIn;
    }
  });
});
