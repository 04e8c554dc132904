#!/usr/bin/env node
/**
 * Bundle the command line for a fast start: `npm ci` (the `prepare` script) and `npm run build` run
 * this after tsc. esbuild (a devDependency) joins harness/cli.ts and everything it loads, zod, yaml
 * and saxes included, into a few ES modules under dist/bundle/, split at every dynamic import so that
 * what a command does not need (the HTML reporter, the sandbox, container and live backends) stays
 * in chunks it never reads. bin/xend-compat.mjs loads dist/bundle/harness/bin/cli.js when it is there,
 * else the tsc output dist/harness/cli.js (a build without the bundle: the same code, more modules).
 *
 * Layout: every output file sits four directories below the package root, as dist/harness/<x>/*.js
 * do, so that the code that finds its assets relative to its own file (import.meta.url: the sandbox,
 * container and live backends by `../<x>/index.js`, build assets, the package root) finds them.
 * The sandbox, container and live backends are entries of the same build, so their code and the
 * command's share one copy of every module (one HarnessError class for instanceof).
 * Packages a run never needs and that must stay installable on their own (testcontainers and what
 * only it uses, playwright-core) stay external. A metafile (dist/bundle/meta.json) says which
 * sources each output holds (the bench's cold-start figure reads it).
 *
 * Minified (less text for V8 to read: a cold run measured ~10 % less CPU than unminified), with
 * function and class names kept (error names, --debug stacks). No source maps (they would triple
 * the package); to debug with source positions, run the sources (harness/cli-dev.ts with tsx) or
 * the tsc output (dist/harness/cli.js).
 */
import { build } from "esbuild";
import { rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.join(root, "dist", "bundle");
rmSync(outdir, { recursive: true, force: true });
const r = await build({
  absWorkingDir: root,
  entryPoints: [
    { in: "harness/cli.ts", out: "harness/bin/cli" },
    { in: "harness/sandbox/index.ts", out: "harness/sandbox/index" },
    { in: "harness/container/index.ts", out: "harness/container/index" },
    { in: "harness/live/index.ts", out: "harness/live/index" },
  ],
  outdir,
  chunkNames: "harness/chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["testcontainers", "playwright-core", "ssh2", "cpu-features", "docker-modem", "dockerode"],
  // CommonJS packages bundled into ES modules call require() for node's built-ins.
  banner: { js: 'import { createRequire as __xcRequire } from "node:module"; const require = __xcRequire(import.meta.url);' },
  legalComments: "linked",
  minify: true,
  keepNames: true,
  metafile: true,
  logLevel: "warning",
});
writeFileSync(path.join(outdir, "meta.json"), JSON.stringify(r.metafile));
