#!/usr/bin/env node
// The xend-compat command. `npm ci` (the `prepare` script) compiles the TypeScript sources to dist/ and
// bundles the command into dist/bundle/ (ci/bundle.mjs: a few files load faster than a few hundred);
// without the bundle, the compiled modules of dist/harness/ run the same code.
import { existsSync } from "node:fs";

const bundled = new URL("../dist/bundle/harness/bin/cli.js", import.meta.url);
const { main } = await import(existsSync(bundled) ? bundled.href : "../dist/harness/cli.js");

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`xend-compat: internal error: ${err?.stack ?? err}`); process.exitCode = 3; },
);
