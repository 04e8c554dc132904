/**
 * Run inside a private mount namespace prepared by test/sandbox-owns-nothing.test.ts: this
 * process's /run and /tmp are fresh tmpfs and /var and /etc are overlays whose upper layers are in
 * STAGE, so anything written there shows. Runs the sandbox (real xend of XEND_COMPAT_XEN_SRC_4_1_2)
 * over every scenario for one libvirt release (HVM starts make xend create /var/run/tap fifos, the
 * boot loader scenario /var/run/xend/boot), then prints, as one JSON line, what /run, /tmp and the
 * overlays' upper layers held before and after.
 */
import * as fs from "node:fs";
import * as path from "node:path";
// Loaded before the first listing: tsx compiles (and caches in /tmp) what is imported here, not the sandbox.
import "../../harness/sandbox/index.js";
import { execute } from "../../harness/run/index.js";

const STAGE = process.argv[2];
const ROOT = path.resolve(import.meta.dirname, "..", "..");

function list(dir: string, depth = 4): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string, n: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r + (e.isDirectory() ? "/" : ""));
      if (e.isDirectory() && n > 1) walk(path.join(d, e.name), r, n - 1);
    }
  };
  walk(dir, "", depth);
  return out.sort();
}

function snapshot() {
  return {
    run: list("/run"),
    // tsx's compile cache (the test runner's, not the sandbox's) is left out.
    tmp: list("/tmp").filter((f) => !/^tsx-\d+(\/|$)/.test(f)),
    var: list(path.join(STAGE, "var", "upper")),
    etc: list(path.join(STAGE, "etc", "upper")),
  };
}

const before = snapshot();
const ex = await execute({ cwd: ROOT, env: process.env, golden: null, backend: "sandbox", xend: ["4.1.2"], libvirt: ["0.9.11"] });
const after = snapshot();
process.stdout.write(
  "PROBE " + JSON.stringify({ before, after, verdicts: ex.results.map((r) => `${r.id} ${r.verdict}`), notes: ex.results[0]?.observation.notes ?? [] }) + "\n",
);
