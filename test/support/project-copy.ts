/**
 * A throw-away copy of the project (harness, matrices, domain fixtures, package.json; node_modules
 * linked) in a temp directory, so a test can let the CLI write goldens and recordings (and be killed
 * while doing it) without touching the repository's fixtures.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");

export interface ProjectCopy {
  dir: string;
  cli: string;
  remove(): void;
}

export function copyProject(): ProjectCopy {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-project-"));
  for (const p of ["harness", "matrices", "fixtures/domains"]) fs.cpSync(path.join(ROOT, p), path.join(dir, p), { recursive: true });
  for (const f of ["package.json", "tsconfig.json"]) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  fs.mkdirSync(path.join(dir, "fixtures", "golden"), { recursive: true });
  return { dir, cli: path.join(dir, "harness", "cli-dev.ts"), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Every file under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, "");
  return out.sort();
}
