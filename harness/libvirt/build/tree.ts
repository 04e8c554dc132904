/**
 * Recognising a user's libvirt tree: its release (configure.ac's AC_INIT), where its SXPR code lives,
 * whether it still has the xend client, its gnulib, and what identifies its content (git commit plus a
 * hash of the uncommitted changes). Every refusal is one clear `input.tree` error.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { HarnessError } from "../../errors.js";

/** Where a release keeps its Xen SXPR converter. */
export type SxprHome = "xen/xend_internal.c" | "xenxs/xen_sxpr.c" | "xenconfig/xen_sxpr.c";

export interface TreeInfo {
  /** The directory as given (resolved) and its real path (the cache is keyed by the latter). */
  dir: string;
  realDir: string;
  /** configure.ac's AC_INIT version, e.g. `0.9.11`. */
  version: string;
  sxprHome: SxprHome;
  /** The release still has src/xen (the xend client and driver): before 4.3.0. */
  hasXendClient: boolean;
  /** gnulib sources to bootstrap with: the tree's .gnulib or the --gnulib directory. */
  gnulib: string;
  /** git commit of the tree (null when it is not a git checkout). */
  commit: string | null;
  /** Hash of the uncommitted changes (tracked diffs and untracked files), null when clean or no git. */
  dirty: string | null;
}

function treeError(dir: string, msg: string): HarnessError {
  return new HarnessError("input.tree", `src:${dir}: ${msg}`);
}

function gitOut(dir: string, args: string[]): string | null {
  try {
    return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 256 * 1024 * 1024 });
  } catch {
    return null;
  }
}

/** Release of a libvirt tree from configure.ac (`AC_INIT([libvirt], [0.9.11], ...)`). */
export function readVersion(dir: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, "configure.ac"), "utf8");
  } catch {
    return null;
  }
  const m = /AC_INIT\(\s*\[?libvirt\]?\s*,\s*\[?(\d+\.\d+\.\d+)/.exec(text);
  return m ? m[1] : null;
}

function cmpVersion(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/**
 * Identify the tree behind `src:DIR` (DIR relative to `cwd`). `gnulibDir` overrides the tree's own
 * .gnulib (`--gnulib DIR` / XEND_COMPAT_GNULIB).
 */
export function inspectTree(dirIn: string, cwd: string, gnulibDir?: string): TreeInfo {
  const dir = path.resolve(cwd, dirIn);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw treeError(dirIn, "no such directory");
  }
  if (!st.isDirectory()) throw treeError(dirIn, "not a directory");
  const realDir = fs.realpathSync(dir);
  const version = readVersion(dir);
  if (!version) throw treeError(dirIn, "not a libvirt source tree (no configure.ac with AC_INIT([libvirt], ...))");
  let sxprHome: SxprHome;
  if (fs.existsSync(path.join(dir, "src/xenconfig/xen_sxpr.c"))) sxprHome = "xenconfig/xen_sxpr.c";
  else if (fs.existsSync(path.join(dir, "src/xenxs/xen_sxpr.c"))) sxprHome = "xenxs/xen_sxpr.c";
  else if (fs.existsSync(path.join(dir, "src/xen/xend_internal.c")) && /xenDaemonFormatSxpr/.test(fs.readFileSync(path.join(dir, "src/xen/xend_internal.c"), "utf8")))
    sxprHome = "xen/xend_internal.c";
  else
    throw treeError(
      dirIn,
      `libvirt ${version} has no Xen SXPR code (src/xenconfig/xen_sxpr.c, src/xenxs/xen_sxpr.c or src/xen/xend_internal.c); it was removed in 5.6.0, so only releases up to 5.5.0 can be built as a profile`,
    );
  if (cmpVersion(version, "0.8.0") < 0)
    throw treeError(dirIn, `libvirt ${version} is older than the oldest era this tool can build (0.8.x); use the model profile (--libvirt ${version})`);
  const hasXendClient = fs.existsSync(path.join(dir, "src/xen/xend_internal.c"));
  const gnulib = gnulibDir ? path.resolve(cwd, gnulibDir) : path.join(dir, ".gnulib");
  if (!fs.existsSync(path.join(gnulib, "gnulib-tool")))
    throw treeError(
      dirIn,
      gnulibDir
        ? `--gnulib ${gnulibDir}: no gnulib-tool there (expected a gnulib checkout)`
        : `no gnulib in ${path.join(dirIn, ".gnulib")} (clone with --recursive, or run 'git submodule update --init .gnulib', or name a gnulib checkout at the commit 'git ls-tree HEAD .gnulib' gives with --gnulib DIR or XEND_COMPAT_GNULIB)`,
    );
  if (cmpVersion(version, "3.7.0") >= 0 && !fs.existsSync(path.join(dir, "src/keycodemapdb/tools/keymap-gen")) && fs.existsSync(path.join(dir, ".gitmodules")) && /keycodemapdb/.test(fs.readFileSync(path.join(dir, ".gitmodules"), "utf8")))
    throw treeError(dirIn, "src/keycodemapdb is empty (run 'git submodule update --init src/keycodemapdb')");
  let commit: string | null = null;
  let dirty: string | null = null;
  if (fs.existsSync(path.join(dir, ".git"))) {
    commit = gitOut(dir, ["rev-parse", "HEAD"])?.trim() || null;
    if (commit) {
      const status = gitOut(dir, ["status", "--porcelain", "--untracked-files=all", "--ignore-submodules=all"]) ?? "";
      if (status.trim()) {
        const h = createHash("sha256");
        h.update(gitOut(dir, ["diff", "HEAD", "--binary", "--ignore-submodules=all"]) ?? "");
        for (const line of status.split("\n")) {
          if (!line.startsWith("?? ")) continue;
          const f = line.slice(3);
          h.update(`\0${f}\0`);
          try {
            h.update(fs.readFileSync(path.join(dir, f)));
          } catch {
            /* vanished meanwhile */
          }
        }
        dirty = h.digest("hex").slice(0, 12);
      }
    }
  }
  return { dir, realDir, version, sxprHome, hasXendClient, gnulib, commit, dirty };
}

/** How reports name a tree: `libvirt 0.9.11 (src:../libvirt @ 1a2b3c4d5e6f + changes 9f8e7d6c5b4a)`. */
export function treeLabel(t: TreeInfo, spec: string): string {
  const at = t.commit ? ` @ ${t.commit.slice(0, 12)}` : " (not a git checkout)";
  const ch = t.dirty ? ` + uncommitted changes ${t.dirty}` : t.commit ? "" : "";
  return `libvirt ${t.version} built from ${spec}${at}${ch}`;
}
