/**
 * The bundled command (ci/bundle.mjs, dist/bundle/: what bin/xend-compat.mjs loads) runs the same code
 * as the compiled modules of dist/harness/: the same cells with the same verdicts, outcomes and
 * observations; the backends it loads on demand by a relative path (`../sandbox/index.js` from
 * harness/xend/backends.ts) are there beside every output that holds that code; and a table run
 * through it reads none of the HTML, container, sandbox or live code (module-load tracing, mapped to
 * the sources each bundle file holds by the bundle's metafile).
 */
import { execa } from "execa";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { sourcesOf } from "../bench/load-trace/bundle-sources.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const BUNDLE = path.join(ROOT, "dist", "bundle", "harness", "bin", "cli.js");
const have = fs.existsSync(BUNDLE) && fs.existsSync(path.join(ROOT, "dist", "harness", "cli.js"));
const SELECT = ["--xend", "4.1.2", "--libvirt", "0.8.7,0.9.11", "--scenario", "hvm-*"];

/** The JSON report of a run, without what differs between two runs of the same code (durations). */
function comparable(stdout: string): unknown {
  const r = JSON.parse(stdout) as { cells: Record<string, unknown>[] };
  for (const c of r.cells) delete c.durationMs;
  return r;
}

describe.skipIf(!have)(`the bundle${have ? "" : " (skipped: no dist/bundle; npm ci or npm run build makes it)"}`, () => {
  it("gives the same report as the compiled modules", async () => {
    const env = { ...process.env, NO_COLOR: "1", CI: "" };
    const bundled = await execa(process.execPath, ["bin/xend-compat.mjs", "run", ...SELECT, "--reporter", "json"], { cwd: ROOT, env, reject: false });
    const compiled = await execa(
      process.execPath,
      ["--input-type=module", "-e", `import { main } from ${JSON.stringify(path.join(ROOT, "dist/harness/cli.js"))}; process.exitCode = await main(process.argv.slice(1));`, "run", ...SELECT, "--reporter", "json"],
      { cwd: ROOT, env, reject: false },
    );
    expect(bundled.exitCode, bundled.stderr).toBe(compiled.exitCode);
    expect(bundled.exitCode).toBeLessThan(2);
    const b = comparable(bundled.stdout) as { cells: unknown[] };
    expect(b.cells.length).toBe(16);
    expect(b).toEqual(comparable(compiled.stdout));
  }, 60_000);

  it("has the backends it loads by relative path beside every output holding harness/xend/backends.ts", () => {
    const meta = JSON.parse(fs.readFileSync(path.join(ROOT, "dist", "bundle", "meta.json"), "utf8")) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
    const holders = Object.entries(meta.outputs).filter(([, o]) => "harness/xend/backends.ts" in o.inputs).map(([f]) => f);
    expect(holders.length).toBeGreaterThan(0);
    const spec = fs.readFileSync(path.join(ROOT, "harness", "xend", "backends.ts"), "utf8").match(/const where = "([^"]+)"/g) ?? [];
    expect(spec.length).toBe(3);
    for (const h of holders)
      for (const s of spec) {
        const rel = /"([^"]+)"/.exec(s)![1];
        expect(fs.existsSync(path.resolve(ROOT, path.dirname(h), rel)), `${h}: ${rel}`).toBe(true);
      }
  });

  it("a table run reads none of the HTML, container, sandbox or live code (and the trace can tell)", async () => {
    const traced = async (args: string[]) => {
      const r = await execa(process.execPath, ["--import", "./bench/load-trace/register.mjs", "bin/xend-compat.mjs", ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1", CI: "" }, reject: false });
      expect(r.exitCode).toBeLessThan(2);
      const files = r.stderr.split("\n").filter((l) => l.startsWith("xend-compat-load ")).map((l) => l.slice(17));
      expect(files.some((f) => f.includes("/dist/bundle/"))).toBe(true);
      return sourcesOf(ROOT, files);
    };
    const heavy = /harness\/(report\/html|container\/|sandbox\/|live\/)|node_modules\/(testcontainers|playwright)/;
    const table = await traced(["run", ...SELECT]);
    expect(table.some((s) => s.startsWith("harness/run/"))).toBe(true);
    expect(table.filter((s) => heavy.test(s))).toEqual([]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-bundle-"));
    try {
      const html = await traced(["run", ...SELECT, "--reporter", "html", "--out", path.join(dir, "r.html")]);
      expect(html.some((s) => s === "harness/report/html.ts")).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
