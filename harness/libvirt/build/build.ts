/**
 * Building a user's libvirt tree: a copy in the user's cache (always the same path for one tree:
 * libtool and the Makefiles embed absolute paths), the era's fixes applied to the copy only, bootstrap +
 * configure (xen only) + the make targets the tree's own SXPR tests need, then those tests, which
 * must pass (gcc 12 silently miscompiles some releases). After a change in the user's tree only the
 * changed files are copied and make rebuilds what depends on them.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { HarnessError } from "../../errors.js";
import { oneLine } from "../../terminal.js";
import { chooseBuildPlace, type BuildPlace } from "./place.js";
import type { TreeInfo } from "./tree.js";

export { BUILD_PACKAGES, missingPackages, installCommand } from "./packages.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Our scripts and driver sources; in dist/ they are not copied by tsc, so fall back to the sources. */
export function assetDir(sub: "scripts" | "driver"): string {
  for (const d of [path.join(HERE, sub), path.join(HERE, "../../../../harness/libvirt/build", sub)]) if (fs.existsSync(d)) return d;
  throw new HarnessError("internal", `xend-compat's build ${sub} are missing (looked in ${path.join(HERE, sub)})`);
}

/** The cache directory of one tree: `$XDG_CACHE_HOME/xend-compat/builds/<hash of its real path>`. */
export function cacheDirFor(realDir: string, env: NodeJS.ProcessEnv = process.env, placeKey = ""): string {
  const base = env.XEND_COMPAT_BUILD_CACHE || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "xend-compat", "builds");
  // libtool and make split paths on white space, and the loader's library path on ':': a build copy
  // there fails deep inside the tree's build, so it is refused here by name.
  if (/[\s:'"\\$`]/.test(base)) {
    throw new HarnessError(
      "input.usage",
      `the libvirt build cache ${oneLine(base)} has white space, ':', a quote, '\\', '$' or '\`' in its path, which libvirt's autotools build cannot use; set XEND_COMPAT_BUILD_CACHE to a directory without them`,
    );
  }
  // A copy configured in the build image is not reused on the host (nor the other way): another key.
  return path.join(base, createHash("sha256").update(placeKey ? `${realDir}\0${placeKey}` : realDir).digest("hex").slice(0, 16));
}

interface Manifest {
  /** Path relative to the tree → "size:mtimeMs" at the last sync. */
  files: Record<string, string>;
  gnulib: string;
  /** State of the copy: which phases are done for the current build inputs. */
  configured: boolean;
  /** Sync signature of the last build that was accepted (its own tests ran). */
  testedKey: string | null;
  /** The tree's own SXPR tests passed on this copy at least once (this toolchain and era build it right). */
  ownTestsPassedOnce?: boolean;
  /** The own tests' failures at the accepted build, when it was accepted despite them. */
  ownTestsFailing?: string | null;
  /** Hash of our build scripts when the copy was configured. */
  recipe?: string;
  /** bootstrap and the gnulib fixes are done for the current build files (configure may still fail). */
  bootstrapped?: boolean;
}

/** Our build recipe (the phase script and the force-included header): a change reconfigures copies. */
function recipeHash(): string {
  const h = createHash("sha256");
  for (const f of ["phase.sh", "nononnull.h", "py2shim.sh"]) h.update(fs.readFileSync(path.join(assetDir("scripts"), f)));
  return h.digest("hex").slice(0, 16);
}

/** Files whose change needs bootstrap and configure again (not only make). */
function needsReconfigure(rel: string): boolean {
  return rel === "configure.ac" || rel === "bootstrap.conf" || rel === "bootstrap" || rel.endsWith("Makefile.am") || rel.startsWith(".gnulib/") || rel.endsWith(".m4");
}

function walk(root: string, prefix: string, out: Map<string, fs.Stats>): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(root, prefix), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.name === ".git") continue;
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) walk(root, rel, out);
    else if (e.isFile() || e.isSymbolicLink()) {
      try {
        // Links are kept as links (lstat): their signature is their target.
        out.set(rel, fs.lstatSync(path.join(root, rel)));
      } catch {
        /* vanished meanwhile */
      }
    }
  }
}

export interface SyncResult {
  copied: number;
  removed: number;
  reconfigure: boolean;
  /** Signature of the synced content (sizes and times of every file). */
  key: string;
}

/**
 * Bring the copy in line with the tree (and the gnulib directory as `.gnulib`): only files whose size
 * or time changed since the last sync are compared, and only different ones written (their time is
 * now, so make sees them as new). Files the tree no longer has are removed from the copy.
 */
export function syncTree(tree: TreeInfo, copy: string, manifest: Manifest): SyncResult {
  const files = new Map<string, fs.Stats>();
  walk(tree.dir, "", files);
  const ownGnulib = path.resolve(tree.gnulib) === path.join(tree.dir, ".gnulib");
  if (!ownGnulib) {
    for (const k of [...files.keys()]) if (k.startsWith(".gnulib/")) files.delete(k);
    const g = new Map<string, fs.Stats>();
    walk(tree.gnulib, "", g);
    for (const [k, v] of g) files.set(`.gnulib/${k}`, v);
  }
  const srcOf = (rel: string) => (!ownGnulib && rel.startsWith(".gnulib/") ? path.join(tree.gnulib, rel.slice(8)) : path.join(tree.dir, rel));
  let copied = 0;
  let removed = 0;
  let reconfigure = false;
  const h = createHash("sha256");
  const next: Record<string, string> = {};
  for (const rel of [...files.keys()].sort()) {
    const st = files.get(rel)!;
    const link = st.isSymbolicLink() ? fs.readlinkSync(srcOf(rel)) : null;
    const sig = link !== null ? `link:${link}` : `${st.size}:${Math.round(st.mtimeMs)}`;
    next[rel] = sig;
    h.update(`${rel}\0${sig}\0`);
    if (manifest.files[rel] === sig) continue;
    const dst = path.join(copy, rel);
    if (link !== null) {
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      fs.rmSync(dst, { force: true, recursive: true });
      fs.symlinkSync(link, dst);
      copied++;
      continue;
    }
    const data = fs.readFileSync(srcOf(rel));
    let same = false;
    try {
      same = fs.readFileSync(dst).equals(data);
    } catch {
      same = false;
    }
    if (!same) {
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      try {
        fs.unlinkSync(dst);
      } catch {
        /* new file */
      }
      fs.writeFileSync(dst, data, { mode: st.mode & 0o777 });
      copied++;
      if (needsReconfigure(rel)) reconfigure = true;
    }
  }
  for (const rel of Object.keys(manifest.files)) {
    if (next[rel] !== undefined) continue;
    try {
      fs.unlinkSync(path.join(copy, rel));
      removed++;
      if (needsReconfigure(rel)) reconfigure = true;
    } catch {
      /* already gone */
    }
  }
  manifest.files = next;
  return { copied, removed, reconfigure, key: h.digest("hex").slice(0, 24) };
}

export interface BuildLog {
  /** Progress lines (stderr). */
  progress: (line: string) => void;
}

export interface Build {
  tree: TreeInfo;
  /** The build copy (a configured, built libvirt tree). */
  copy: string;
  cacheDir: string;
  logFile: string;
  /** Seconds each phase took in this call (empty when nothing needed doing). */
  timings: Record<string, number>;
  /** The key of the synced content: same key, same build. */
  key: string;
  /** Set when the tree's own SXPR tests fail at this build and it was accepted anyway (see buildTree). */
  ownTestsFailing: string | null;
  /** Where its commands ran (and the driver runs): the host or the build image. */
  place: BuildPlace;
}

const PHASES_FULL = ["fix-source", "bootstrap", "fix-gnulib", "configure", "make", "test"] as const;
const PHASES_INCR = ["fix-source", "make", "test"] as const;
const PHASES_CONF = ["fix-source", "configure", "make", "test"] as const;

function tail(file: string, n: number): string {
  try {
    const lines = fs.readFileSync(file, "utf8").trimEnd().split("\n");
    return lines.slice(-n).join("\n");
  } catch {
    return "(no log)";
  }
}

function runPhase(phase: string, tree: TreeInfo, copy: string, logFile: string, progress: (l: string) => void, jobs: number, place: BuildPlace): Promise<number> {
  const scripts = assetDir("scripts");
  return new Promise((resolve, reject) => {
    const out = fs.openSync(logFile, "a");
    fs.writeSync(out, `\n### ${phase} ${new Date().toISOString()}\n`);
    const child = place.spawn("bash", [path.join(scripts, "phase.sh"), phase], {
      cwd: copy,
      // PYTHON_CONFIG=true: bootstrap.conf (0.9.x-1.x) lists python-config among the build requirements
      // for the Python bindings, which are never built here (configure --without-python); a Debian
      // without python3-dev (the build image) has none. bootstrap takes the program from this variable.
      vars: { B: copy, TOOLS: scripts, VERSION: tree.version, JOBS: String(jobs), PY: path.join(scripts, "py2shim.sh"), LC_ALL: "C", PYTHON_CONFIG: "true" },
      stdio: ["ignore", out, out],
    });
    const started = Date.now();
    const timer = setInterval(() => progress(`  ${phase}: ${Math.round((Date.now() - started) / 1000)} s, ${lastLine(logFile)}`), 15_000);
    child.on("error", (e) => {
      clearInterval(timer);
      fs.closeSync(out);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearInterval(timer);
      fs.closeSync(out);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

/** The last line of the log that says where the step is (compiler warnings are skipped). */
function lastLine(file: string): string {
  const lines = tail(file, 40).split("\n");
  const t = (lines.reverse().find((l) => /^\s*(CC|CCLD|GEN|checking|Copying|Creating|autoreconf|libtoolize|==|\.\/bootstrap)\b/.test(l)) ?? lines[0] ?? "").trim();
  return t.length > 100 ? t.slice(0, 97) + "..." : t;
}

/**
 * Build (or bring up to date) the tree's copy and run its own SXPR tests. Refuses (input.build, exit 2)
 * on missing packages, a failing phase or failing tests, naming the log and quoting its last lines.
 */
export async function buildTree(tree: TreeInfo, opts: { env?: NodeJS.ProcessEnv; progress?: (l: string) => void; jobs?: number; place?: BuildPlace } = {}): Promise<Build> {
  const env = opts.env ?? process.env;
  const progress = opts.progress ?? (() => {});
  // Where it runs: --build-in / XEND_COMPAT_BUILD_IN (auto: the host when it has the packages, else
  // the build image when a Docker engine answers, else one error naming the packages and both ways out).
  const place = opts.place ?? (await chooseBuildPlace(tree.version, env, progress)).place;
  const cacheDir = cacheDirFor(tree.realDir, env, place.cacheKey);
  place.share(cacheDir, "rw");
  place.share(assetDir("scripts"), "ro");
  place.share(assetDir("driver"), "ro");
  const copy = path.join(cacheDir, "tree");
  const logFile = path.join(cacheDir, "build.log");
  const manifestFile = path.join(cacheDir, "manifest.json");
  fs.mkdirSync(copy, { recursive: true });
  let manifest: Manifest = { files: {}, gnulib: tree.gnulib, configured: false, testedKey: null };
  try {
    const m = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as Manifest;
    if (m && typeof m.files === "object" && m.gnulib === tree.gnulib) manifest = m;
    // Our recipe changed since this copy was configured (fixes, flags): configure it anew.
    if (manifest.recipe !== recipeHash()) manifest.configured = false;
    // A copy accepted before this field existed had passed its own tests (they were always required).
    if (manifest.testedKey && manifest.ownTestsPassedOnce === undefined) manifest.ownTestsPassedOnce = true;
  } catch {
    /* first build */
  }
  fs.writeFileSync(path.join(cacheDir, "source"), `${tree.realDir}\n`);
  const saveManifest = () => fs.writeFileSync(manifestFile, JSON.stringify(manifest));
  const t0 = Date.now();
  const sync = syncTree(tree, copy, manifest);
  const timings: Record<string, number> = {};
  timings.sync = (Date.now() - t0) / 1000;
  if (sync.reconfigure) manifest.configured = manifest.bootstrapped = false;
  if (manifest.configured && manifest.testedKey === sync.key && fs.existsSync(path.join(copy, "config.status"))) {
    saveManifest();
    return { tree, copy, cacheDir, logFile, timings, key: sync.key, ownTestsFailing: manifest.ownTestsFailing ?? null, place };
  }
  // After a configure that failed (bootstrap done), start again at configure.
  const phases = manifest.configured ? PHASES_INCR : manifest.bootstrapped ? PHASES_CONF : PHASES_FULL;
  manifest.testedKey = null;
  saveManifest();
  if (!manifest.configured) fs.writeFileSync(logFile, `xend-compat build of ${tree.realDir} (libvirt ${tree.version}) in ${copy}\n`);
  progress(
    manifest.configured
      ? `xend-compat: rebuilding libvirt ${tree.version} (${sync.copied} changed file(s), ${sync.removed} removed) in ${copy} ${place.describe()}`
      : `xend-compat: building libvirt ${tree.version} from ${tree.dir} in ${copy} ${place.describe()} (first build: bootstrap, configure, make, own tests; a few minutes; log ${logFile})`,
  );
  const jobs = opts.jobs ?? Math.max(1, Math.min(os.cpus().length, 4));
  let ownTestsFailing: string | null = null;
  for (const phase of phases) {
    const s = Date.now();
    progress(`  ${phase} ...`);
    const code = await runPhase(phase, tree, copy, logFile, progress, jobs, place);
    timings[phase] = (Date.now() - s) / 1000;
    if (code !== 0 && phase === "test" && (manifest.ownTestsPassedOnce || env.XEND_COMPAT_OWN_TESTS === "warn")) {
      // The tree's own tests passed on this copy before (so the toolchain and the era's fixes build it
      // right) and fail now: the user's change alters what they pin. Accepted, said loudly.
      ownTestsFailing = ownTestSummary(logFile);
      progress(
        `xend-compat: warning: libvirt ${tree.version}'s own SXPR tests now fail (${ownTestsFailing}): ${manifest.ownTestsPassedOnce ? "they passed on this build copy before, so this is taken as your change's effect" : "accepted because XEND_COMPAT_OWN_TESTS=warn"}; log: ${logFile}`,
      );
      timings[phase] = (Date.now() - s) / 1000;
      continue;
    }
    if (code !== 0) {
      if (phase !== "test" && phase !== "make") manifest.configured = false;
      if (phase === "bootstrap" || phase === "fix-source" || phase === "fix-gnulib") manifest.bootstrapped = false;
      saveManifest();
      const what =
        phase === "test"
          ? "its own SXPR tests (sexpr2xmltest, xml2sexprtest) fail, so this build is not trusted (a first build must pass them: they guard against miscompiles; if your change is meant to alter their outputs, update tests/*data, or set XEND_COMPAT_OWN_TESTS=warn)"
          : `the ${phase} step failed (exit ${code})`;
      throw new HarnessError("input.build", `libvirt ${tree.version} from ${tree.dir}: ${what}; log: ${logFile}; last lines:\n${tail(logFile, 12)}`);
    }
    if (phase === "test") manifest.ownTestsPassedOnce = true;
    if (phase === "fix-gnulib") {
      manifest.bootstrapped = true;
      saveManifest();
    }
    if (phase === "configure") {
      manifest.configured = true;
      manifest.recipe = recipeHash();
      saveManifest();
    }
    progress(`  ${phase}: ${timings[phase].toFixed(1)} s`);
  }
  manifest.configured = true;
  manifest.testedKey = sync.key;
  manifest.ownTestsFailing = ownTestsFailing;
  saveManifest();
  return { tree, copy, cacheDir, logFile, timings, key: sync.key, ownTestsFailing, place };
}

/** "sexpr2xmltest 45 FAIL, xml2sexprtest 48 OK" from the last test step of the log. */
function ownTestSummary(logFile: string): string {
  const log = fs.readFileSync(logFile, "utf8");
  const last = log.slice(log.lastIndexOf("### test"));
  const out: string[] = [];
  for (const m of last.matchAll(/^== (\w+)\n([\s\S]*?)(?=^== |^### |(?![\s\S]))/gm)) {
    const r = /(\d+)\s+(OK|FAIL)\s*$/m.exec(m[2].trimEnd());
    const bad = (m[2].match(/!/g) ?? []).length;
    out.push(`${m[1]} ${r ? (r[2] === "FAIL" ? `${bad} of ${r[1]} cases fail` : `${r[1]} OK`) : "did not run"}`);
  }
  return out.join(", ") || "see the log";
}
