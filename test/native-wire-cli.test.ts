/**
 * `--wire`: what cannot be the native wire is one line, exit 2, before anything is built or started
 * (a model profile, a tree of 4.3.0 or later, a backend that replays recordings, an unknown mode);
 * and, with a real v0.9.11 tree and the Xen 4.1.2 tree (XEND_COMPAT_LIBVIRT_SRC_0_9_11,
 * XEND_COMPAT_XEN_SRC_4_1_2; skipped with that reason otherwise), `run --wire native` against the
 * sandbox's real xend gives the verdicts `--wire ours` gives on the default scenarios, each cell saying
 * which wire it used, with the requests only the tree's own client makes.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../harness/cli.js";
import { forgetSourceProfiles } from "../harness/libvirt/build/index.js";
import { captureIO } from "./support/cli-io.js";

afterEach(() => forgetSourceProfiles());

/** A directory shaped like a libvirt tree of `version` (our own stand-in files; nothing is built). */
function fakeTree(version: string, xendClient: boolean): string {
  const d = mkdtempSync(join(tmpdir(), "xc-wire-tree-"));
  writeFileSync(join(d, "configure.ac"), `AC_INIT([libvirt], [${version}], [list@example.org])\n`);
  const sx = xendClient ? "xenxs" : "xenconfig";
  mkdirSync(join(d, "src", sx), { recursive: true });
  writeFileSync(join(d, "src", sx, "xen_sxpr.c"), "/* stand-in */\n");
  writeFileSync(join(d, "src", sx, "xen_sxpr.h"), "/* stand-in */\n");
  if (xendClient) {
    mkdirSync(join(d, "src", "xen"), { recursive: true });
    writeFileSync(join(d, "src", "xen", "xend_internal.c"), "/* stand-in */\n");
  }
  mkdirSync(join(d, ".gnulib"));
  writeFileSync(join(d, ".gnulib", "gnulib-tool"), "#!/bin/sh\n");
  mkdirSync(join(d, "tests"));
  return d;
}

async function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIO(process.cwd(), env);
  const code = await main(["run", ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** The sandbox backend is asked for by env only (nothing starts before --wire is judged). */
const SANDBOX_ENV = { XEND_COMPAT_XEN_SRC_4_1_2: "/nonexistent/xen-4.1.2", XEND_COMPAT_BUILD_CACHE: join(tmpdir(), "xc-wire-no-build") };

describe("--wire: what cannot be the native wire is one line, exit 2, nothing built or started", () => {
  it("a model profile (not src:DIR)", async () => {
    const r = await run(["--libvirt", "0.9.11", "--xend", "4.1.2", "--backend", "sandbox", "--wire", "native"], SANDBOX_ENV);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--wire native: libvirt 0\.9\.11: a model profile, not a built tree \(src:DIR\): only our wire/);
    expect(r.stdout).toBe("");
  });

  it("a tree of 4.3.0 or later (no xend client)", async () => {
    const d = fakeTree("4.5.0", false);
    const r = await run(["--libvirt", `src:${d}`, "--xend", "4.1.2", "--backend", "sandbox", "--wire", "native"], SANDBOX_ENV);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--wire native: libvirt src:\S+: the tree is libvirt 4\.5\.0, and 4\.3\.0 removed the xend client: only our wire$/m);
    expect(existsSync(SANDBOX_ENV.XEND_COMPAT_BUILD_CACHE)).toBe(false);
  });

  it("a tree of 1.2.1 (it cannot read xend's replies)", async () => {
    const d = fakeTree("1.2.1", true);
    const r = await run(["--libvirt", `src:${d}`, "--xend", "4.1.2", "--backend", "sandbox", "--wire", "native"], SANDBOX_ENV);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--wire native: libvirt src:\S+: the tree is libvirt 1\.2\.1: /);
  });

  it("a backend that replays recordings", async () => {
    const d = fakeTree("0.9.11", true);
    const r = await run(["--libvirt", `src:${d}`, "--xend", "4.1.2", "--wire", "native"], {});
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--wire native needs a real xend .*--backend recorded replays recordings/);
  });

  it("an unknown mode", async () => {
    const r = await run(["--libvirt", "0.9.11", "--wire", "theirs"], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--wire 'theirs': expected one of ours, native, auto/);
  });

  it("auto falls back to our wire where native cannot be (a model profile replayed from recordings), and says so per cell", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "xc-wire-auto-")), "r.json");
    const r = await run(["--libvirt", "0.9.11", "--xend", "4.1.2", "--scenario", "pv-utc", "--wire", "auto", "--reporter", `json=${out}`], {});
    expect(r.code).toBe(0);
    const cells = (JSON.parse(readFileSync(out, "utf8")) as { cells: { wire: string }[] }).cells;
    expect(cells.map((c) => c.wire)).toEqual(["ours"]);
  });
});

const TREE = process.env.XEND_COMPAT_LIBVIRT_SRC_0_9_11;
const XEN = process.env.XEND_COMPAT_XEN_SRC_4_1_2;
const why = !TREE
  ? "XEND_COMPAT_LIBVIRT_SRC_0_9_11 is not set (a libvirt v0.9.11 checkout with its .gnulib)"
  : !XEN
    ? "XEND_COMPAT_XEN_SRC_4_1_2 is not set (a Xen 4.1.2 tree holding tools/python, for the sandbox's real xend)"
    : "";

interface JsonCell {
  id: string;
  scenario: string;
  wire: string;
  verdict: string;
  reason: string;
  observation: { exchanges: { step: string; kind: string; request?: { method: string; path: string } }[]; notes: string[] };
}

describe.skipIf(Boolean(why))(`--wire native end to end: libvirt 0.9.11's own client against the sandbox's xend 4.1.2${why ? ` (skipped: ${why})` : ""}`, () => {
  it("gives the verdicts of --wire ours on every default scenario, each cell saying which wire it used", { timeout: 20 * 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "xc-wire-e2e-"));
    const reports: Record<string, JsonCell[]> = {};
    for (const wire of ["native", "ours"]) {
      const out = join(dir, `${wire}.json`);
      const r = await run(["--libvirt", `src:${TREE}`, "--xend", "4.1.2", "--backend", "sandbox", "--wire", wire, "--reporter", `json=${out}`], process.env);
      expect(r.code, r.stderr).toBe(0);
      reports[wire] = (JSON.parse(readFileSync(out, "utf8")) as { cells: JsonCell[] }).cells;
    }
    const ours = new Map(reports.ours.map((c) => [c.id, c]));
    expect(reports.native.length).toBeGreaterThanOrEqual(10);
    for (const c of reports.native) {
      expect(c.wire).toBe("native");
      expect(ours.get(c.id)?.wire).toBe("ours");
      expect(c.verdict, `${c.id}: native ${c.reason} / ours ${ours.get(c.id)?.reason}`).toBe(ours.get(c.id)?.verdict);
      expect(c.verdict).not.toBe("error");
    }
    // The tree's own client, not ours, talked: 0.9.11's xenDaemonDomainDefineXML ends with its own
    // lookup (GET ...?detail=1 in the define step), which our wire never sends.
    const defined = reports.native.filter((c) => c.observation.exchanges.some((x) => x.step.endsWith("-define") && x.request?.method === "POST"));
    expect(defined.length).toBeGreaterThan(0);
    for (const c of defined) {
      expect(c.observation.exchanges.some((x) => x.step.endsWith("-define") && x.request?.method === "GET"), c.id).toBe(true);
      expect(c.observation.notes.some((n) => n.startsWith("wire: native"))).toBe(true);
      expect(ours.get(c.id)!.observation.exchanges.some((x) => x.step.endsWith("-define") && x.request?.method === "GET")).toBe(false);
    }
  });
});
