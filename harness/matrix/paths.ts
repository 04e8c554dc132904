/**
 * Where the project's own files are: the package root (the folder holding xend-compat's package.json),
 * found from this module's location, so `npx xend-compat run` works from any working directory and
 * both `harness/…` (tsx, vitest) and `dist/harness/…` (built) resolve the same root.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function projectRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, "utf8")).name === "xend-compat") return (cached = dir);
      } catch {
        // not ours; keep looking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error("xend-compat: cannot find the package root (package.json named xend-compat)");
    dir = up;
  }
}

/** A project-relative path made absolute against the package root (absolute paths stay as they are). */
export function fromRoot(p: string): string {
  return path.isAbsolute(p) ? p : path.join(projectRoot(), p);
}

export const DEFAULT_MATRIX = "matrices/default.yaml";
export const RECORDINGS_DIR = "fixtures/recordings";
export const GOLDEN_DIR = "fixtures/golden";
/** The full matrix (every xend series × every libvirt release × every scenario): what support answers from by default. */
export const FULL_MATRIX = "matrices/full.yaml";
