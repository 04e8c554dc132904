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

export type XendFamily = "3.2" | "3.4" | "4.1";

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

/** Which xend generation the tree holds, from the compiled helpers it ships sources for. */
export function familyOfTree(pythonDir: string): XendFamily {
  const low = path.join(pythonDir, "xen", "lowlevel");
  if (fs.existsSync(path.join(low, "checkpoint")) || fs.existsSync(path.join(low, "xl"))) return "4.1";
  if (fs.existsSync(path.join(low, "process"))) return "3.4";
  return "3.2";
}

/** The family a version string names (`3.2`, `3.2.2`, `3.4.3`, `4.1.2`), or undefined. */
export function familyOfVersion(v: string): XendFamily | undefined {
  if (/^3\.2(\.|$)/.test(v)) return "3.2";
  if (/^3\.4(\.|$)/.test(v)) return "3.4";
  if (/^4\.1(\.|$)/.test(v)) return "4.1";
  return undefined;
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
