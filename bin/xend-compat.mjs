#!/usr/bin/env node
// The xend-compat command. The TypeScript sources are compiled to dist/ by `npm ci` (the `prepare` script).
import { main } from "../dist/harness/cli.js";

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`xend-compat: internal error: ${err?.stack ?? err}`); process.exitCode = 3; },
);
