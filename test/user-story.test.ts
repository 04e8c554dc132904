/**
 * A user's story, start to end, from the packed package in a directory outside the repository: install
 * it, write a matrix beside one's own domain XML and a project config, record against a xend into one's
 * own recordings directory, write goldens, then run as CI would (JUnit and HTML from one run), and ask
 * support, explain and diff on the same files. Nothing is written into node_modules.
 *
 * The xend here is the test's stand-in (test/support/fault-xend.ts) reached through the live backend:
 * what it answers is test data in a temporary directory, never a shipped recording.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultXend, type FaultXend } from "./support/fault-xend.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const haveDist = fs.existsSync(path.join(ROOT, "dist", "harness", "cli.js"));

/** Every file below a directory with its size and mtime: what "nothing was written" compares. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = fs.lstatSync(p);
        out.push(`${path.relative(dir, p)} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

describe.skipIf(!haveDist)(`a user's story from the packed package${haveDist ? "" : " (skipped: no dist/ build; npm ci builds it)"}`, () => {
  let home: string;
  let xend: FaultXend;
  let pkgDir: string;
  // Asynchronous: the stand-in xend answers from this test's own event loop.
  const cli = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = await execa(process.execPath, [path.join(home, "node_modules", ".bin", "xend-compat"), ...args], {
      cwd: home,
      env: { ...process.env, CI: "", XEND_COMPAT_CACHE_DIR: path.join(home, ".cache"), ...env },
      reject: false,
      timeout: 120_000,
    });
    return { code: r.exitCode, out: r.stdout, err: r.stderr };
  };

  beforeAll(async () => {
    home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "xc-story-")));
    const packed = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", home], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const tgz = path.join(home, (JSON.parse(packed) as Array<{ filename: string }>)[0].filename);
    fs.writeFileSync(path.join(home, "package.json"), JSON.stringify({ name: "our-xen-checks", private: true }));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--omit=optional", "--prefer-offline", tgz], { cwd: home, stdio: "ignore", timeout: 600_000 });
    pkgDir = path.join(home, "node_modules", "xend-compat");
    // Our own domain (an HVM guest on local time), matrix and config, outside the package.
    fs.mkdirSync(path.join(home, "domains"));
    fs.writeFileSync(
      path.join(home, "domains", "our-hvm.xml"),
      fs.readFileSync(path.join(ROOT, "fixtures", "domains", "hvm-localtime.xml"), "utf8").replace(/<name>[^<]*<\/name>/, "<name>our-hvm</name>"),
    );
    fs.writeFileSync(
      path.join(home, "ours.yaml"),
      [
        "name: ours",
        'xend: ["4.1.2"]',
        'libvirt: ["0.9.11", "1.1.3"]',
        "scenarios:",
        "  - id: our-hvm",
        "    description: our HVM guest on local time",
        "    domain: domains/our-hvm.xml",
        "    steps: [define, read]",
        "",
      ].join("\n"),
    );
    fs.writeFileSync(path.join(home, "xend-compat.config.yaml"), "matrix: ours.yaml\ngoldens: golden\nrecordings: recordings\n");
    xend = await startFaultXend({ listen: "tcp", version: "4.1.2" });
  }, 900_000);

  afterAll(async () => {
    await xend?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it("records, writes goldens, runs as CI with JUnit and HTML, and answers support, explain and diff on the user's files", async () => {
    const before = snapshot(pkgDir);

    const rec = await cli(["record", "--backend", "live", "--url", xend.url, "--xend", "4.1.2"]);
    expect(rec.code, rec.err).toBe(0);
    expect(fs.readdirSync(path.join(home, "recordings", "4.1.2")).sort()).toEqual(["0.9.11", "1.1.3"]);

    const gold = await cli(["run", "--update-golden"]);
    expect(gold.code, gold.out + gold.err).toBe(0);
    // one index line per cell, one shared text per distinct observation
    const index = fs.readFileSync(path.join(home, "golden", "index", "ours.tsv"), "utf8");
    expect(index).toMatch(/^4\.1\.2\/0\.9\.11\/our-hvm\t[0-9a-f]{16}$/m);
    expect(fs.readdirSync(path.join(home, "golden", "objects")).length).toBeGreaterThanOrEqual(1);

    const ci = await cli(["run", "--reporter", "junit=junit.xml", "--reporter", "html=report.html", "--reporter", "table"], { CI: "true" });
    expect(ci.code, ci.out + ci.err).toBe(0);
    expect(fs.readFileSync(path.join(home, "junit.xml"), "utf8")).toContain('<testcase classname="xend-4_1_2.libvirt-0_9_11" name="our-hvm"');
    expect(fs.readFileSync(path.join(home, "report.html"), "utf8")).toMatch(/^<!DOCTYPE html>/i);
    expect(ci.out).toMatch(/2 cells: .*2 replayed/s);

    const sup = await cli(["support", "--json"]);
    expect(sup.code, sup.err).toBe(0);
    expect(JSON.parse(sup.out).support.map((s: { libvirt: string; xend: string }) => `${s.libvirt}@${s.xend}`).sort()).toEqual(["0.9.11@4.1.2", "1.1.3@4.1.2"]);

    const ex = await cli(["explain", "4.1.2/0.9.11/our-hvm"]);
    expect(ex.code, ex.err).toBe(0);
    expect(ex.out).toContain("domains/our-hvm.xml");

    const diff = await cli(["diff", "--from", "0.9.11", "--to", "1.1.3", "--fail-on", "changed"]);
    expect(diff.code, diff.out + diff.err).toBe(0);
    expect(diff.out).toMatch(/^diff libvirt 0\.9\.11/);

    // The installed package is exactly as npm left it.
    expect(snapshot(pkgDir)).toEqual(before);
  }, 600_000);
});
