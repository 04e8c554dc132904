/**
 * src:DIR in every command that names a libvirt version, with the real 0.9.11 tree of
 * XEND_COMPAT_LIBVIRT_SRC_0_9_11 (the tree is only read; its build is the user's cache, so this is fast
 * once the tree was built, minutes the first time). Skipped with the reason without a tree.
 */
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../harness/cli.js";
import { captureIO } from "./support/cli-io.js";

const SRC = process.env.XEND_COMPAT_LIBVIRT_SRC_0_9_11;
const why = !SRC ? "XEND_COMPAT_LIBVIRT_SRC_0_9_11 is not set (a libvirt v0.9.11 checkout with its .gnulib)" : !existsSync(join(SRC, ".gnulib/gnulib-tool")) ? `${SRC} has no .gnulib` : "";

const io = () => captureIO(process.cwd(), { ...process.env });

describe.skipIf(Boolean(why))(`src:DIR in every command${why ? ` (skipped: ${why})` : ""}`, () => {
  const spec = `src:${resolve(SRC ?? ".")}`;

  it("run: a matrix's libvirt list may name a tree; its cells replay its release's recordings and agree with the release", { timeout: 30 * 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "xc-matrix-"));
    const m = join(dir, "m.yaml");
    copyFileSync("fixtures/domains/hvm-utc.xml", join(dir, "hvm-utc.xml"));
    writeFileSync(
      m,
      [
        "name: src-tree",
        "description: the 0.9.11 release and a 0.9.11 tree",
        'xend: ["4.1.2"]',
        `libvirt: ["0.9.11", "${spec}"]`,
        "scenarios:",
        "  - id: hvm-utc",
        "    description: HVM guest, clock utc",
        "    domain: hvm-utc.xml",
        "    steps: [define, read]",
        "    checks: [clock]",
        "",
      ].join("\n"),
    );
    const o = io();
    await main(["run", "--matrix", m, "--reporter", "json"], o);
    const j = JSON.parse(o.stdout) as { cells: { libvirt: string; profile: string; verdict: string; observation: { clockAfter: unknown } }[] };
    const [rel, tree] = [j.cells.find((c) => c.libvirt === "0.9.11")!, j.cells.find((c) => c.libvirt === spec)!];
    expect(tree.profile).toMatch(/^src:0\.9\.11@[0-9a-f]{12}/);
    expect([tree.verdict, tree.observation.clockAfter]).toEqual([rel.verdict, rel.observation.clockAfter]);
  });

  it("conformance runs the tree's own suite (its data and its drivers' case lists) through the build", { timeout: 30 * 60_000 }, async () => {
    const o = io();
    expect(await main(["conformance", "--libvirt", spec], o)).toBe(0);
    expect(o.stdout).toMatch(/sexpr2xml: 51\/51 passed, all passed/);
    expect(o.stdout).toMatch(/xml2sexpr: 53\/53 passed, all passed/);
  });

  it("diff: an unchanged tree differs from its release in no cell (same requests, same refusals, same read-back)", { timeout: 30 * 60_000 }, async () => {
    const o = io();
    expect(await main(["diff", "--from", "0.9.11", "--to", spec, "--xend", "4.1.2"], o)).toBe(0);
    expect(o.stdout.split("\n")[0]).toMatch(/: 0 of 14 cells differ$/);
  });

  it("explain and support take it too", { timeout: 30 * 60_000 }, async () => {
    const e = io();
    expect(await main(["explain", `4.1.2/${spec}/hvm-utc`], e)).toBe(0);
    expect(e.stdout).toMatch(/profile src:0\.9\.11@[0-9a-f]{12}: libvirt 0\.9\.11 built from/);
    const s = io();
    await main(["support", "--libvirt", spec, "--xend", "4.1.2", "--json"], s);
    expect(s.stdout).toContain(spec);
  });
});
