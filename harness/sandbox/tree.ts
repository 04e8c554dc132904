/**
 * A Xen source tree for the sandbox: where its `tools/python` is, which xend family it holds, and
 * where it came from (provenance). Provenance is taken, in this order, from the caller's `origin`
 * option, an origin file beside the tree (`.xend-compat-origin`, `key=value` lines), or the git
 * work tree the directory is in; what none of them says stays `unknown`.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { HarnessError } from "../errors.js";

/** A Xen series, `M.m` (e.g. `3.0`, `4.4`): what xeninfo reports as xen_major/xen_minor. */
export type XendFamily = string;

/** Where a tree came from. */
export interface TreeOrigin {
  /** e.g. `github:xen-project/xen`, or a tarball name. */
  repo?: string;
  /** Full commit hash (or the tarball's sha256 as `sha256:<hex>`). */
  commit?: string;
  /** Tag or release name, e.g. `RELEASE-4.1.2`. */
  ref?: string;
  /** Free text, e.g. "3.4.4 release import standing in for 3.4.3". */
  note?: string;
}

export interface XenTree {
  /** The directory given by the user. */
  given: string;
  /** The directory that holds `xen/xend` (the tree's tools/python). */
  pythonDir: string;
  family: XendFamily;
  origin: Required<Pick<TreeOrigin, "repo" | "commit">> & TreeOrigin;
  /** Where the origin came from: `option`, `origin-file <path>`, `git <dir>`, `none`. */
  originSource: string;
}

export const ORIGIN_FILE = ".xend-compat-origin";

/** Find `tools/python` (or a directory that is itself tools/python) under `dir`. */
export function findPythonDir(dir: string): string | undefined {
  for (const cand of [path.join(dir, "tools", "python"), dir]) {
    if (fs.existsSync(path.join(cand, "xen", "xend", "XendDomain.py"))) return path.resolve(cand);
  }
  return undefined;
}

/**
 * The Xen series a tree may hold, from what its tools/python contains (a bare tools/python does not
 * name its release): the compiled helpers it ships sources for, and whether it has managed domains
 * (XendConfig.py, 3.1 on). The bounds are what each marker proves; 3.2 and 3.3, and 4.2 to 4.4, have
 * the same markers, so a tree of those gives a range.
 */
export function seriesRangeOfTree(pythonDir: string): { min: XendFamily; max: XendFamily } {
  const low = path.join(pythonDir, "xen", "lowlevel");
  const has = (d: string) => fs.existsSync(path.join(low, d));
  const managed = fs.existsSync(path.join(pythonDir, "xen", "xend", "XendConfig.py"));
  if (has("xl")) return has("acm") ? { min: "4.1", max: "4.1" } : { min: "4.2", max: "4.4" };
  if (has("checkpoint")) return { min: "4.0", max: "4.0" };
  if (has("process")) return { min: "3.4", max: "3.4" };
  if (has("flask")) return { min: "3.2", max: "3.3" };
  if (has("acm") || managed) return { min: "3.1", max: "3.1" };
  return { min: "3.0", max: "3.0" };
}

/** The lowest series the tree may hold (see seriesRangeOfTree). */
export function familyOfTree(pythonDir: string): XendFamily {
  return seriesRangeOfTree(pythonDir).min;
}

/** The series a version label names (`3.0.0` → `3.0`, `3.4.3` → `3.4`, `4.1.2` → `4.1`), or undefined. */
export function familyOfVersion(v: string): XendFamily | undefined {
  const m = /^(\d+)\.(\d+)(?:\.|$)/.exec(v);
  return m ? `${Number(m[1])}.${Number(m[2])}` : undefined;
}

/**
 * Check that the xend version label can be the tree's (its series within seriesRangeOfTree) and set
 * `tree.family` to the label's series; throws `input.usage` naming both otherwise.
 */
export function checkTreeSeries(tree: XenTree, xendVersion: string): void {
  const wanted = familyOfVersion(xendVersion);
  const range = seriesRangeOfTree(tree.pythonDir);
  if (wanted && (compareSeries(wanted, range.min) < 0 || compareSeries(wanted, range.max) > 0))
    throw new HarnessError(
      "input.usage",
      `xend version ${xendVersion} does not match the Xen tree at ${tree.given}: it holds a ${range.min === range.max ? `${range.min}.x` : `${range.min}.x-${range.max}.x`} xend (from the lowlevel modules and files under tools/python)`,
    );
  if (wanted) tree.family = wanted;
}

/** Compare two series `M.m`. */
export function compareSeries(a: string, b: string): number {
  const [am, an] = a.split(".").map(Number);
  const [bm, bn] = b.split(".").map(Number);
  return am! - bm! || an! - bn!;
}

/** Parse an origin file: `key=value` lines (repo, commit, ref, version, note); `#` comments. */
export function parseOriginFile(text: string): TreeOrigin {
  const out: TreeOrigin = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === "repo" || key === "commit" || key === "ref" || key === "note") out[key] = value;
  }
  return out;
}

function originFromFile(given: string, pythonDir: string): { origin: TreeOrigin; source: string } | undefined {
  // Beside the tree root, or beside/inside tools/python.
  const cands = [path.join(given, ORIGIN_FILE), path.join(pythonDir, ORIGIN_FILE), path.join(pythonDir, "..", "..", ORIGIN_FILE)];
  for (const f of cands) {
    if (fs.existsSync(f)) return { origin: parseOriginFile(fs.readFileSync(f, "utf8")), source: `origin-file ${path.resolve(f)}` };
  }
  return undefined;
}

function originFromGit(dir: string, pythonDir: string): { origin: TreeOrigin; source: string } | undefined {
  try {
    const opts = { cwd: dir, encoding: "utf8" as const, stdio: ["ignore", "pipe", "ignore"] as ["ignore", "pipe", "ignore"] };
    // Only a work tree that really tracks this xend (not some unrelated repository around it).
    const tracked = execFileSync("git", ["ls-files", "--", path.join(pythonDir, "xen", "xend", "XendDomain.py")], opts).trim();
    if (!tracked) return undefined;
    const commit = execFileSync("git", ["rev-parse", "HEAD"], opts).trim();
    if (!/^[0-9a-f]{40}$/.test(commit)) return undefined;
    let repo = "";
    try {
      repo = execFileSync("git", ["config", "--get", "remote.origin.url"], opts).trim();
    } catch {
      repo = execFileSync("git", ["rev-parse", "--show-toplevel"], opts).trim();
    }
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "."], opts).trim() !== "";
    const origin: TreeOrigin = { repo: repo || dir, commit };
    if (dirty) origin.note = "work tree has uncommitted changes";
    return { origin, source: `git ${dir}` };
  } catch {
    return undefined;
  }
}

/** Locate and describe a Xen tree. Throws `input.usage` when `dir` holds no xend. */
export function openTree(dir: string, origin?: TreeOrigin): XenTree {
  const given = path.resolve(dir);
  if (!fs.existsSync(given))
    throw new HarnessError("input.usage", `no Xen tree at ${given}: the directory does not exist`);
  const pythonDir = findPythonDir(given);
  if (!pythonDir)
    throw new HarnessError(
      "input.usage",
      `no Xen tree at ${given}: expected tools/python/xen/xend (extract tools/python of a Xen source tree or release tarball)`,
    );
  let found: { origin: TreeOrigin; source: string } | undefined;
  if (origin && (origin.repo || origin.commit)) found = { origin, source: "option" };
  found ??= originFromFile(given, pythonDir) ?? originFromGit(given, pythonDir);
  const o = found?.origin ?? {};
  return {
    given,
    pythonDir,
    family: familyOfTree(pythonDir),
    origin: { ...o, repo: o.repo ?? given, commit: o.commit ?? "unknown" },
    originSource: found?.source ?? "none",
  };
}
