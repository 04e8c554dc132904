/**
 * Figure 3, cold start: `node bin/xend-compat.mjs run` (the default matrix, built dist/ and its bundle,
 * a new process each time) against `node -e 0` and `node bin/xend-compat.mjs --version` (loading the
 * CLI only), interleaved, medians; and, once, the files the run loads (module-load tracing,
 * bench/load-trace/; a file of the bundle stands for the sources it holds): how many, and none of the
 * HTML, container, sandbox or live code.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { projectRoot } from "../../harness/matrix/index.js";
import type { Figure } from "../report.js";
import { fmtMs, fmtRatio, median } from "../stats.js";
import { sourcesOf } from "../load-trace/bundle-sources.js";

/**
 * Build dist/ as `npm run build` does (tsc -p tsconfig.build.json, then the bundle: ci/bundle.mjs);
 * type errors elsewhere in the tree do not stop the emit.
 */
export function buildDist(root: string): { ok: boolean; ms: number; detail: string } {
  const tsc = path.join(root, "node_modules", ".bin", "tsc");
  const t0 = performance.now();
  const r = spawnSync(tsc, ["-p", "tsconfig.build.json"], { cwd: root, encoding: "utf8" });
  const b = spawnSync(process.execPath, [path.join(root, "ci", "bundle.mjs")], { cwd: root, encoding: "utf8" });
  const ms = performance.now() - t0;
  const ok = existsSync(path.join(root, "dist", "harness", "cli.js"));
  const errors = (r.stdout + r.stderr).split("\n").filter((l) => /error TS/.test(l)).length;
  const bundled = b.status === 0 && existsSync(path.join(root, BUNDLE_CLI));
  return {
    ok,
    ms,
    detail: `${errors ? `tsc reported ${errors} type error(s) in the tree; dist emitted anyway` : "clean build"}; ${bundled ? "bundled" : `no bundle (${(b.stderr || "").trim().split("\n")[0]}): the compiled modules run`}`,
  };
}

/** The bundled command (ci/bundle.mjs), which bin/xend-compat.mjs loads when it is there. */
const BUNDLE_CLI = path.join("dist", "bundle", "harness", "bin", "cli.js");

interface Cmd {
  name: string;
  args: string[];
}

export async function coldFigure(o: { quick: boolean; build: boolean }): Promise<Figure> {
  const root = projectRoot();
  let buildNote = "dist as found";
  if (o.build) {
    const b = buildDist(root);
    if (!b.ok) return { id: "cold", skipped: `could not build dist/ (npm run build): ${b.detail}` };
    buildNote = `dist rebuilt (${b.detail})`;
  } else if (!existsSync(path.join(root, "dist", "harness", "cli.js"))) return { id: "cold", skipped: "no dist/ (run npm run build, or drop --no-build)" };

  const cmds: Cmd[] = [
    { name: "node -e 0", args: ["-e", "0"] },
    { name: "--version", args: ["bin/xend-compat.mjs", "--version"] },
    { name: "run", args: ["bin/xend-compat.mjs", "run"] },
  ];
  const reps = o.quick ? 5 : 15;
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.CI;
  const ms = new Map<string, number[]>(cmds.map((c) => [c.name, []]));
  let exit: number | null = null;
  let summary = "";
  for (let r = -1; r < reps; r++) {
    for (let k = 0; k < cmds.length; k++) {
      const c = cmds[(((r % cmds.length) + cmds.length) % cmds.length + k) % cmds.length];
      const t0 = performance.now();
      const p = spawnSync(process.execPath, c.args, { cwd: root, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      const t = performance.now() - t0;
      if (r >= 0) ms.get(c.name)!.push(t);
      if (c.name === "run") {
        exit = p.status;
        const lines = (p.stdout ?? "").trim().split("\n");
        const i = lines.findIndex((l) => /^\d+ cells:/.test(l));
        summary = i >= 0 ? lines.slice(i).join(" ").replace(/\s+/g, " ") : (p.stderr ?? "").trim().split("\n").pop() ?? "";
      }
    }
  }
  // Which modules a table run loads (one traced run).
  const traced = spawnSync(process.execPath, ["--import", "./bench/load-trace/register.mjs", "bin/xend-compat.mjs", "run"], { cwd: root, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const mods = (traced.stderr ?? "").split("\n").filter((l) => l.startsWith("xend-compat-load ")).map((l) => l.slice(17));
  // Files of the bundle stand for the sources esbuild put in them (its metafile).
  const bundleFiles = mods.filter((m) => m.includes("/dist/bundle/")).length;
  const sources = sourcesOf(root, mods);
  const ours = sources.filter((m) => /(^|\/)(dist\/)?harness\//.test(m) && !m.includes("node_modules")).length;
  const deps = new Map<string, number>();
  for (const m of sources) {
    const d = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m)?.[1];
    if (d) deps.set(d, (deps.get(d) ?? 0) + 1);
  }
  const heavy = sources.filter((m) => /harness\/(report\/html|container\/|sandbox\/|live\/)|node_modules\/(testcontainers|playwright)/.test(m));
  const base = median(ms.get("node -e 0")!);
  const ver = median(ms.get("--version")!);
  const run = median(ms.get("run")!);
  return {
    id: "cold",
    line:
      `run (default matrix, new process): ${fmtMs(run)} = ${fmtRatio(run / base)} node -e 0 (${fmtMs(base)}) | --version ${fmtMs(ver)} = ${fmtRatio(ver / base)} | ` +
      `run beyond node startup ${fmtMs(run - base)} | target ≤ 3× node -e 0: ${run / base <= 3 ? "met" : "missed"} | ` +
      `files loaded: ${mods.length}${bundleFiles ? ` (${bundleFiles} of the bundle, holding ${sources.length - (mods.length - bundleFiles)} modules)` : ""}: ${ours} modules of harness/, ${[...deps].map(([d, n]) => `${d} ${n}`).join(", ")}; HTML/container/sandbox/live code loaded: ${heavy.length ? heavy.join(", ") : "none"} | ` +
      `medians of ${reps} interleaved reps | exit ${exit}; ${summary} | ${buildNote}`,
    data: { runMs: run, nodeMs: base, versionMs: ver, ratio: run / base, targetMet: run / base <= 3, reps, exit, summary, files: mods.length, bundleFiles, modules: sources.length, harnessModules: ours, dependencies: Object.fromEntries(deps), heavy, samples: Object.fromEntries(ms) },
  };
}
