/**
 * Paths built from names the user (or a matrix, or a recording) gave: the one place that decides
 * which names may become a path segment and that a path stays inside its root.
 *
 * 1. Identifiers first. A xend version, a libvirt version and a scenario id are checked against
 *    their own grammar (checkId) before they touch a path: no `/`, no `..`, no leading `.`, no
 *    control characters, bounded length. A cell id is three identifiers joined by `/`.
 * 2. Then the path is joined from those parts only (cellFile) and confined (confine): after
 *    resolving every symbolic link, the path (or its deepest existing ancestor) must lie inside the
 *    root's real path. A dangling or looping link is refused, naming the path; a link that stays
 *    inside the root is followed.
 *
 * Every error is a HarnessError `input.*` (exit 2) with one line that names the path or the value.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { HarnessError } from "./errors.js";
import { oneLine } from "./terminal.js";

export type IdKind = "xend version" | "libvirt version" | "scenario id";

/**
 * The grammar of each identifier. A libvirt version is a release (`0.9.11`, four parts too,
 * `v0.9.11`), a profile id (`0.9.11-1.3.0`) or a release with one named patch (`0.8.7+rfc-localtime`).
 */
const ID_RE: Record<IdKind, RegExp> = {
  "xend version": /^\d{1,9}(?:\.\d{1,9}){1,5}$/,
  "libvirt version": /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}(?:\+[A-Za-z0-9][A-Za-z0-9._-]{0,63})?$/,
  "scenario id": /^[a-z0-9][a-z0-9-]{0,127}$/,
};

const EXPECTED: Record<IdKind, string> = {
  "xend version": "digits and dots, e.g. 4.1.2",
  "libvirt version": "a release like 0.9.11, or one patch like 0.8.7+rfc-localtime: letters, digits, '.', '-' and at most one '+'",
  "scenario id": "lower-case letters, digits and '-'",
};

/** Is `value` an identifier of this kind? */
export function isId(kind: IdKind, value: string): boolean {
  return ID_RE[kind].test(value) && !value.includes("..");
}

/** `value` if it is an identifier of this kind; else a HarnessError input.usage naming it. */
export function checkId(kind: IdKind, value: string): string {
  if (!isId(kind, value)) throw new HarnessError("input.usage", `${kind} '${oneLine(value)}' is not an identifier (expected ${EXPECTED[kind]})`);
  return value;
}

export interface CellParts {
  xend: string;
  libvirt: string;
  scenario: string;
}

/**
 * The file of one cell under `root`: root/<xend>/<libvirt>/<scenario><ext>, each part checked as an
 * identifier first, then `encode`d (recordings percent-encode `+`), then the whole confined to root.
 */
export function cellFile(root: string, parts: CellParts, ext: string, what: string, encode: (s: string) => string = (s) => s): string {
  const libvirt = checkCellParts(parts);
  return confine(root, path.join(root, encode(parts.xend), encode(libvirt), encode(parts.scenario) + ext), what);
}

/**
 * The checks of cellFile without a path: each part an identifier (else HarnessError input.usage);
 * returns the libvirt part as it names files (a source tree, src:DIR, by a hash of its spec).
 */
export function checkCellParts(parts: CellParts): string {
  checkId("xend version", parts.xend);
  // A libvirt source tree (src:DIR) is named in files by a hash of its spec (a path is no identifier).
  const libvirt = parts.libvirt.startsWith("src:") ? `src-${createHash("sha256").update(parts.libvirt).digest("hex").slice(0, 16)}` : parts.libvirt;
  checkId("libvirt version", libvirt);
  checkId("scenario id", parts.scenario);
  return libvirt;
}

/** A directory of one xend version under `root` (recordings), the version checked and the path confined. */
export function xendDir(root: string, xend: string, what: string, encode: (s: string) => string = (s) => s): string {
  checkId("xend version", xend);
  return confine(root, path.join(root, encode(xend)), what);
}

/** Real paths of roots and directories already resolved in this process (bounded). */
const realDirs = new Map<string, string | NodeJS.ErrnoException>();

function realOf(p: string): string | NodeJS.ErrnoException {
  try {
    return fs.realpathSync.native(p);
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
}

/**
 * The real path of a file: one lstat when it is no symbolic link (its directory's real path, cached,
 * joined with its name: what realpath gives, without resolving every component again); else realpath.
 */
function realOfFile(p: string): string | NodeJS.ErrnoException {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(p, { throwIfNoEntry: false });
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  if (st && !st.isSymbolicLink()) {
    const dir = realDir(path.dirname(p));
    // A directory remembered as missing may have been made since (a golden written by this run).
    if (typeof dir === "string") return path.join(dir, path.basename(p));
  }
  return realOf(p);
}

function realDir(p: string): string | NodeJS.ErrnoException {
  let r = realDirs.get(p);
  if (r === undefined) {
    r = realOf(p);
    if (realDirs.size >= 4096) realDirs.clear();
    realDirs.set(p, r);
  }
  return r;
}

/** Forget remembered directory real paths (tests that change links under a root). */
export function forgetRealPaths(): void {
  realDirs.clear();
}

/** Is `p` the root or below it? Both absolute and normalised (path.resolve, realpath): a prefix ending at a separator. */
function inside(root: string, p: string): boolean {
  if (p === root) return true;
  return p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function linkProblem(e: NodeJS.ErrnoException): string {
  if (e.code === "ELOOP") return "a symbolic link loop";
  if (e.code === "ENOENT") return "a dangling symbolic link (its target does not exist)";
  if (e.code === "ENOTDIR") return "a path through something that is not a directory";
  return `cannot resolve: ${e.code ?? e.message}`;
}

/**
 * `file` if it lies inside `root` both lexically and after resolving symbolic links (of the file
 * itself when it exists, else of its deepest existing ancestor); otherwise HarnessError input.file
 * naming the path. A root that does not exist yet confines lexically (nothing under it can be a link).
 */
export function confine(root: string, file: string, what: string): string {
  const absRoot = path.resolve(root);
  const abs = path.resolve(file);
  const fail = (why: string) => new HarnessError("input.file", `${what} ${oneLine(abs)}: ${why}`);
  if (!inside(absRoot, abs)) throw fail(`outside ${oneLine(absRoot)}`);
  const realRoot = realDir(absRoot);
  if (typeof realRoot !== "string") {
    if (realRoot.code === "ENOENT" && !isLink(absRoot)) return abs;
    throw fail(`its root ${oneLine(absRoot)} is ${linkProblem(realRoot)}`);
  }
  // The file itself (not cached: it may be written between two calls), then its ancestors (cached).
  let cur = abs;
  let real = realOfFile(cur);
  while (typeof real !== "string") {
    if (real.code !== "ENOENT" || isLink(cur)) {
      if (real.code === "ENOTDIR" && !isLink(cur)) throw fail("a path through something that is not a directory");
      throw fail(`${cur === abs ? "is" : `${oneLine(cur)} is`} ${linkProblem(real)}`);
    }
    if (cur === absRoot) return abs;
    cur = path.dirname(cur);
    real = realDir(cur);
  }
  if (!inside(realRoot, real)) throw fail(`${cur === abs ? "resolves" : `${oneLine(cur)} resolves`} to ${oneLine(real)}, outside ${oneLine(absRoot)}`);
  return abs;
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
