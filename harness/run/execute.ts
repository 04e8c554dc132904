/**
 * The flow `run`, `support`, `explain` and `diff` share: load the matrix, expand the cells, make one
 * backend per xend version, run the cells (comparing goldens when asked). A xend version the backend
 * does not have (no recordings, no Xen tree, no live xend named, a live xend of another version) is
 * bad input before any cell runs; a backend that cannot start stops the run with its reason. Neither
 * is ever a column of skipped cells (see DECISIONS.md, "Nothing failing is green").
 */
import * as path from "node:path";
import { HarnessError, isHarnessError } from "../errors.js";
import { DEFAULT_MATRIX, GOLDEN_DIR, RECORDINGS_DIR, expandCells, fromRoot, instanceFor, loadMatrix, projectRoot, type Cell, type ExpandFilter, type Matrix, type Scenario } from "../matrix/index.js";
import { createHash } from "node:crypto";
import { rewriteIdentity } from "./cell.js";
import * as fs from "node:fs";
import { randomBytes } from "node:crypto";
import { createBackend, LayeredRecordedBackend, packCacheDir, RecordedBackend, safeSegment, seriesOf, sharedPack } from "../xend/index.js";
import { findProjectConfig, refuseNodeModules } from "../config/index.js";
import { xendDir } from "../safepath.js";
import { oneLine } from "../terminal.js";
import { resolveProfile } from "../libvirt/index.js";
import { prepareProfiles } from "../libvirt/build/index.js";
import { nativeRefusal } from "./native.js";
import type { WireMode } from "./cell.js";
import type { Backend, BackendKind } from "../xend/types.js";
import { flushGoldens, obsoleteGoldens, isCI, type GoldenOptions } from "./golden.js";
import { runCells } from "./runner.js";
import type { CellResult, Progress } from "./types.js";

export const BACKEND_KINDS: readonly BackendKind[] = ["recorded", "sandbox", "container", "live"];

export interface ExecuteOptions extends ExpandFilter {
  /** Matrix file as the user gave it (resolved against cwd); default the package's matrices/default.yaml. */
  matrix?: string;
  backend?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Compare goldens (run); `update` rewrites them. */
  golden?: { update: boolean } | null;
  onProgress?: (p: Progress) => void;
  /** Replace backend creation (tests). */
  backendFor?: (xend: string) => Promise<Backend>;
  /** Recordings directory, the bottom layer (default fixtures/recordings of the package). */
  recordingsDir?: string;
  /**
   * The user's recording layers over it, later over earlier (--recordings, repeatable; default the
   * project config's `recordings`). A cell replays from the top-most layer holding its recording.
   */
  recordingLayers?: string[];
  /** Golden directory (default fixtures/golden of the package). */
  goldenDir?: string;
  /** An already loaded matrix (instead of loading `matrix`). */
  loaded?: Matrix;
  /** Narrow the expanded cells before they run (run --shard: a slice; see harness/shard). */
  select?: (cells: Cell[]) => Cell[];
  /** Settings for backends that talk to a real xend (live: url; all: timeout, GET retries, log). */
  backendSettings?: BackendSettings;
  /** Progress lines of building src:DIR trees (default: stderr). */
  log?: (line: string) => void;
  /**
   * Whose HTTP client talks to xend (`--wire`): `ours` (default: harness/xend/client.ts with the
   * profile's wire encoding), `native` (a built tree's own xend client; every libvirt of the run must
   * be a src: tree that has one, and the backend a real xend), `auto` (native where it can be, else ours).
   */
  wire?: string;
}

export const WIRE_MODES = ["ours", "native", "auto"] as const;
export type WireOption = (typeof WIRE_MODES)[number];

export function parseWire(w: string | undefined): WireOption {
  const v = (w ?? "ours") as WireOption;
  if (!WIRE_MODES.includes(v)) throw new HarnessError("input.usage", `--wire '${w}': expected one of ${WIRE_MODES.join(", ")}`);
  return v;
}

/**
 * Which wire each libvirt version of the run gets; `--wire native` that cannot be had (a model
 * profile, a tree of 4.3.0 or later, recordings instead of a real xend) is bad input, one line.
 */
function wirePlan(wire: WireOption, kind: BackendKind, libvirts: string[], xends: string[], env: NodeJS.ProcessEnv): (libvirt: string) => WireMode {
  if (wire === "ours") return () => "ours";
  const replays = kind === "recorded" || (kind === "container" && xends.some((x) => !env[`XEND_COMPAT_XEN_SRC_${x.replace(/\./g, "_")}`]));
  const can = new Map<string, string | null>();
  for (const l of libvirts) can.set(l, replays ? "recordings hold our wire's conversations" : nativeRefusal(resolveProfile(l)));
  if (wire === "native") {
    if (replays)
      throw new HarnessError("input.usage", `--wire native needs a real xend (--backend sandbox, container with a Xen tree, or live): --backend ${kind} replays recordings, which hold our wire's conversations`);
    for (const [l, why] of can) if (why) throw new HarnessError("input.usage", `--wire native: libvirt ${l}: ${why}`);
  }
  return (l) => (can.get(l) === null ? "native" : "ours");
}

export interface BackendSettings {
  /** live: the xend address (default $XEND_COMPAT_LIVE_URL). */
  url?: string;
  /** Per-request deadline in ms (default $XEND_COMPAT_TIMEOUT_MS, else 30000). */
  timeoutMs?: number;
  /** live: retries of a GET after a transport fault (default $XEND_COMPAT_RETRIES, else 2). */
  retries?: number;
  /** live: the run id in domain names on the wire (default $XEND_COMPAT_LIVE_RUN_ID, else random; one for all xend versions of the run). */
  runId?: string;
  log?: (line: string) => void;
}

/** A whole number from an option or an environment variable, or a usage error naming it. */
export function wholeNumber(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new HarnessError("input.usage", `${name} '${v}': expected a whole number from ${min} to ${max}`);
  return n;
}

export interface Execution {
  matrix: Matrix;
  cells: Cell[];
  results: CellResult[];
  obsoleteGoldens: string[];
  backend: BackendKind;
}

export function parseBackendKind(b: string | undefined): BackendKind {
  const kind = (b ?? "recorded") as BackendKind;
  if (!BACKEND_KINDS.includes(kind)) throw new HarnessError("input.usage", `--backend '${b}': expected one of ${BACKEND_KINDS.join(", ")}`);
  return kind;
}

/** The matrix of a command: --matrix, else the project config's, else the package's default. */
export function loadMatrixFor(opts: { matrix?: string; cwd: string }): Matrix {
  if (opts.matrix) return loadMatrix(path.resolve(opts.cwd, opts.matrix), { displayName: opts.matrix });
  const configured = findProjectConfig(opts.cwd)?.matrix;
  if (configured) return loadMatrix(configured, { displayName: path.relative(opts.cwd, configured) || configured });
  return loadMatrix(fromRoot(DEFAULT_MATRIX), { displayName: DEFAULT_MATRIX });
}

/**
 * Where a run's goldens live: --golden-dir (tests), the project config's `goldens`, the package's
 * fixtures/golden for a matrix of the package, else `golden/` beside the user's matrix file.
 */
function goldenDirFor(opts: ExecuteOptions, matrix: Matrix, configured: string | undefined): string {
  if (opts.goldenDir) return opts.goldenDir;
  if (configured) return configured;
  const inPackage = !path.relative(projectRoot(), matrix.file).startsWith("..");
  return inPackage ? fromRoot(GOLDEN_DIR) : path.join(path.dirname(matrix.file), "golden");
}

/**
 * What a libvirt version sends to xend in a scenario, as a key: its wire encoding and the SXPR it
 * formats for the scenario's domain under the cell's own name and uuid (so the domain names, which the
 * start and read requests carry, are part of it), at the config format(s) xend reports. Two libvirt
 * versions with the same key send the same requests, so a recording of one replays for the other;
 * computed from the profiles, never declared. Without the scenario: the profile id.
 */
export function conversationKeys(scenarios: readonly Scenario[]): (libvirt: string, scenario: string, xend?: string) => Promise<string | undefined> {
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  const memo = new Map<string, Promise<string | undefined>>();
  return (libvirt, scenario, xend) => {
    const k = `${libvirt}\u0000${scenario}\u0000${xend ?? ""}`;
    let v = memo.get(k);
    if (!v) {
      v = keyOf(libvirt, byId.get(scenario), xend);
      memo.set(k, v);
    }
    return v;
  };
}

async function keyOf(libvirt: string, s: Scenario | undefined, xend: string | undefined): Promise<string | undefined> {
  let p;
  try {
    p = resolveProfile(libvirt);
  } catch {
    return undefined;
  }
  if (!s) return p.id;
  // A built tree (src:DIR) defines the domains of its release's model (same names, same recordings).
  const { name, uuid } = instanceFor(p.replayAs ?? p.id, s.id);
  const xml = rewriteIdentity(s.xml, name, uuid);
  // the xend_config_format this xend reports (harness/xend/series.ts); unknown or none: every one libvirt knows
  const reported = xend !== undefined ? seriesOf(xend)?.configFormat : undefined;
  const versions = typeof reported === "number" ? [reported] : [1, 2, 3, 4];
  const h = createHash("sha256").update(`wire ${p.wire}\u0000`);
  // a profile that cannot talk to xend at all says so (e.g. 1.2.1): part of what it sends
  const unusable = (p as { unusable?: unknown }).unusable;
  if (unusable !== undefined) h.update(`unusable ${JSON.stringify(unusable)}\u0000`);
  for (const v of versions) {
    try {
      h.update(`${v}: ${(await p.format(xml, { xendConfigVersion: v, file: s.domainFile })).sxpr}\u0000`);
    } catch (e) {
      h.update(`${v} refused: ${e instanceof Error ? e.message : String(e)}\u0000`);
    }
  }
  return h.digest("hex");
}

/** The backend factory the CLI uses for a kind; environment decides where real xends come from. */
export function backendFactory(
  kind: BackendKind,
  env: NodeJS.ProcessEnv,
  recordingsDir?: string,
  settings: BackendSettings = {},
  scenarios: readonly Scenario[] = [],
  layers: readonly string[] = [],
): (xend: string) => Promise<Backend> {
  const keys = conversationKeys(scenarios);
  const timeoutMs = settings.timeoutMs ?? wholeNumber("XEND_COMPAT_TIMEOUT_MS", env.XEND_COMPAT_TIMEOUT_MS, 1, 3_600_000);
  const retries = settings.retries ?? wholeNumber("XEND_COMPAT_RETRIES", env.XEND_COMPAT_RETRIES, 0, 10);
  // One run id for every xend version of this run (live domain names: xc-<run id>-<xend>-…).
  const runId = kind === "live" ? (settings.runId ?? liveRunId(env)) : undefined;
  // One pack per recordings layer for all the xend versions of the run: each directory is checked once.
  const dirs = [recordingsDir ?? fromRoot(RECORDINGS_DIR), ...layers];
  const packs = kind === "recorded" ? dirs.map((d) => sharedPack(d, packCacheDir(env))) : undefined;
  return async (xend: string) => {
    switch (kind) {
      case "recorded": {
        // A cell without a recording of its own replays one of the same conversation: a release that
        // sends the same requests in the scenario (computed key) first, else any recording whose
        // requests are the cell's up to the domain's name and uuid (harness/xend/recorded.ts). With
        // the user's layers over the shipped recordings, the top-most layer holding the cell answers.
        const backends = dirs.map((dir, i) => new RecordedBackend({ dir, xendVersion: xend, profileOf: (l, s) => keys(l, s, xend), pack: packs![i] }));
        return backends.length === 1 ? backends[0] : new LayeredRecordedBackend(backends);
      }
      case "sandbox":
      case "container": {
        const v = `XEND_COMPAT_XEN_SRC_${xend.replace(/\./g, "_")}`;
        const src = env[v];
        // container without a Xen tree: the replay server over the recordings, in a container.
        if (!src && kind === "container")
          return createBackend({ kind, xendVersion: xend, recordingsDir: recordingsDir ?? fromRoot(RECORDINGS_DIR), ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
        if (!src) throw new HarnessError("backend.unavailable", `no Xen source tree for xend ${xend} (set ${v})`);
        return createBackend({ kind, xendVersion: xend, xenSrc: src, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
      }
      case "live": {
        const url = settings.url ?? env.XEND_COMPAT_LIVE_URL;
        if (!url) throw new HarnessError("backend.unavailable", "no live xend named (--url, or XEND_COMPAT_LIVE_URL: http://host:port or unix:///path)");
        return createBackend({
          kind,
          xendVersion: xend,
          url,
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          ...(retries !== undefined ? { retries } : {}),
          ...(runId !== undefined ? { runId } : {}),
          ...(settings.log ? { log: settings.log } : {}),
        });
      }
    }
  };
}

/**
 * The live run id: $XEND_COMPAT_LIVE_RUN_ID when set (lower-case letters and digits, 1-16; to find or
 * reproduce a run's domain names), else 6 random characters.
 */
export function liveRunId(env: NodeJS.ProcessEnv): string {
  const v = env.XEND_COMPAT_LIVE_RUN_ID;
  if (v === undefined || v === "") return newRunId();
  if (!/^[a-z0-9]{1,16}$/.test(v)) throw new HarnessError("input.usage", `XEND_COMPAT_LIVE_RUN_ID '${v}': expected 1 to 16 lower-case letters or digits`);
  return v;
}

/** A fresh random run id: 6 characters of [a-z0-9]. */
function newRunId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (const b of randomBytes(6)) out += alphabet[b % 36];
  return out;
}

/** The xend versions that have a folder in a recordings directory, in version order. */
export function recordedXendVersions(dir: string): string[] {
  let names: fs.Dirent[];
  try {
    names = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new HarnessError("input.file", `cannot list recordings ${oneLine(dir)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  const out: string[] = [];
  for (const d of names) {
    if (!d.isDirectory()) continue;
    try {
      out.push(decodeURIComponent(d.name));
    } catch {
      /* not a folder the recorder writes */
    }
  }
  return out.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

/** The xend versions the environment names a Xen tree for (XEND_COMPAT_XEN_SRC_<V>, `.` as `_`), in version order. */
export function xenTreeVersions(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    const m = /^XEND_COMPAT_XEN_SRC_(\d+(?:_\d+)+)$/.exec(k);
    if (m && v) out.push(m[1].replace(/_/g, "."));
  }
  return out.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

function shownDir(dir: string): string {
  const where = path.relative(projectRoot(), dir).split(path.sep).join("/") || dir;
  return where.startsWith("..") ? dir : where;
}

/** Does the recordings directory hold a folder for this xend version (confined to it after resolving links)? */
function hasRecordings(dir: string, x: string): boolean {
  return fs.existsSync(xendDir(dir, x, "recordings", safeSegment));
}

/**
 * Why `kind` cannot play xend `x` here (no recordings, no Xen tree, no live xend named), with the
 * versions it does have; null when it has what it needs to start. Nothing is started or contacted.
 */
function lacks(kind: BackendKind, x: string, env: NodeJS.ProcessEnv, recordingsDirs: string[], settings: BackendSettings): string | null {
  const recordingsDir = recordingsDirs[recordingsDirs.length - 1];
  const treeVar = `XEND_COMPAT_XEN_SRC_${x.replace(/\./g, "_")}`;
  const recorded = () => {
    const have = [...new Set(recordingsDirs.flatMap(recordedXendVersions))].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    return `recorded xend versions: ${have.length ? have.join(", ") : "none"}`;
  };
  const trees = () => {
    const have = xenTreeVersions(env);
    return `Xen trees named for: ${have.length ? have.join(", ") : "none"}`;
  };
  switch (kind) {
    case "recorded":
      return recordingsDirs.some((d) => hasRecordings(d, x)) ? null : `no recordings to replay in ${recordingsDirs.map(shownDir).join(", ")} (${recorded()})`;
    case "sandbox":
      return env[treeVar] ? null : `no Xen tree for the sandbox (set ${treeVar} to a tree holding tools/python; ${trees()})`;
    case "container":
      // With a tree: the real xend in a container; without: the replay server over that version's recordings.
      if (env[treeVar] || hasRecordings(recordingsDir, x)) return null;
      return `no Xen tree (${treeVar}) and no recordings in ${shownDir(recordingsDir)} for a container to play it (${trees()}; ${recorded()})`;
    case "live":
      return settings.url ?? env.XEND_COMPAT_LIVE_URL ? null : "no live xend named (--url, or XEND_COMPAT_LIVE_URL: http://host:port or unix:///path)";
  }
}

/**
 * Every xend version the cells need must be one the backend has: a version it lacks is bad input,
 * reported before any cell runs, naming where it was asked for (the --xend argument, or the matrix
 * file's line and column of that entry) and what the backend does have. Never a column of error or
 * skipped cells.
 */
function checkBackendHas(kind: BackendKind, xends: string[], matrix: Matrix, fromArgs: boolean, env: NodeJS.ProcessEnv, recordingsDirs: string[], settings: BackendSettings): void {
  for (const x of xends) {
    const why = lacks(kind, x, env, recordingsDirs, settings);
    if (why === null) continue;
    throw xendProblem(kind, x, why, matrix, fromArgs);
  }
}

function xendProblem(kind: BackendKind, x: string, why: string, matrix: Matrix, fromArgs: boolean): HarnessError {
  const backend = kind === "recorded" ? "" : ` (--backend ${kind})`;
  if (fromArgs) return new HarnessError("input.usage", `xend ${x}: ${why}${backend}`);
  const i = matrix.xend.indexOf(x);
  return new HarnessError("input.matrix", `xend ${x}: ${why}${backend}`, { pos: matrix.xendPos[i] ?? { file: matrix.file } });
}

/**
 * Start the backend of every xend version before any cell runs. A backend that cannot start (the
 * sandbox's Python or tree unusable, no container engine, a live xend that does not answer or is
 * another version) stops the run with its reason: exit 2, one line, nothing reported as cells.
 * A live xend is asked once, for the first version; when it does not answer, the others are not tried.
 */
async function startBackends(kind: BackendKind, xends: string[], factory: (x: string) => Promise<Backend>, matrix: Matrix, fromArgs: boolean): Promise<Map<string, Backend>> {
  const started = new Map<string, Backend>();
  const closeAll = async () => {
    for (const b of started.values()) await b.close().catch(() => {});
  };
  const failure = (x: string, e: unknown): HarnessError => {
    if (isHarnessError(e, "input") && e.pos) return e;
    const reason = e instanceof HarnessError ? e.oneLine() : e instanceof Error ? e.message : String(e);
    const other = / is Xen (\d[^\s,]*)/.exec(reason);
    if (kind === "live" && other && e instanceof HarnessError && e.code === "backend.unavailable")
      return xendProblem(kind, x, reason.includes(` is Xen ${other[1]}`) && reason.startsWith("the live xend") ? reason : `the live xend is Xen ${other[1]} (${reason})`, matrix, fromArgs);
    return new HarnessError(isHarnessError(e, "input") ? e.code : "input.backend", `--backend ${kind} cannot play xend ${x}: ${reason.replace(/\s*\n\s*/g, " ")}`, { cause: e });
  };
  if (kind === "live") {
    for (const x of xends) {
      try {
        started.set(x, await factory(x));
      } catch (e) {
        await closeAll();
        throw failure(x, e);
      }
    }
    return started;
  }
  const settled = await Promise.allSettled(xends.map(async (x) => [x, await factory(x)] as const));
  for (const s of settled) if (s.status === "fulfilled") started.set(s.value[0], s.value[1]);
  const i = settled.findIndex((s) => s.status === "rejected");
  if (i >= 0) {
    await closeAll();
    throw failure(xends[i], (settled[i] as PromiseRejectedResult).reason);
  }
  return started;
}

/** A recordings directory named by the user must be a directory (one line, exit 2, naming it). */
function checkRecordingsDir(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new HarnessError("input.usage", `--recordings ${oneLine(dir)}: ${code === "ENOENT" ? "no such directory" : code === "ELOOP" ? "a symbolic link loop" : (code ?? (e as Error).message)}`);
  }
  if (!st.isDirectory()) throw new HarnessError("input.usage", `--recordings ${oneLine(dir)}: not a directory`);
}

export async function execute(opts: ExecuteOptions): Promise<Execution> {
  const kind = parseBackendKind(opts.backend);
  if (opts.recordingsDir !== undefined && !opts.backendFor) checkRecordingsDir(opts.recordingsDir);
  // The user's recording layers over the shipped ones: --recordings (checked like it), else the project
  // config's (a configured directory that does not exist yet, before the first record, holds nothing).
  const config = findProjectConfig(opts.cwd);
  if (opts.recordingLayers && !opts.backendFor) for (const l of opts.recordingLayers) checkRecordingsDir(l);
  const layers = opts.recordingLayers ?? (config?.recordings ?? []).filter((d) => fs.existsSync(d));
  const matrix = opts.loaded ?? loadMatrixFor(opts);
  const expanded = expandCells(matrix, { xend: opts.xend, libvirt: opts.libvirt, scenario: opts.scenario });
  const fromArgs = Boolean(opts.xend?.length);
  const recordingsDir = opts.recordingsDir ?? fromRoot(RECORDINGS_DIR);
  // Every xend version asked for (not only those of this shard) must be one the backend has.
  const asked = fromArgs ? [...new Set(opts.xend)] : [...new Set(expanded.map((c) => c.xend))];
  if (!opts.backendFor) checkBackendHas(kind, asked, matrix, fromArgs, opts.env, [recordingsDir, ...layers], opts.backendSettings ?? {});
  const cells = opts.select ? opts.select(expanded) : expanded;
  const wireFor = wirePlan(parseWire(opts.wire), kind, [...new Set(cells.map((c) => c.libvirt))], [...new Set(cells.map((c) => c.xend))], opts.env);
  // Built profiles (src:DIR) are built before any cell runs: a failing build is one error, exit 2.
  await prepareProfiles(
    [...new Set(cells.map((c) => c.libvirt))].map((l) => resolveProfile(l)),
    opts.log,
  );
  const goldenDir = goldenDirFor(opts, matrix, config?.goldens);
  if (opts.golden?.update) refuseNodeModules(goldenDir, "goldens");
  const ci = isCI(opts.env);
  // Content-addressed goldens, one index per matrix (golden.ts).
  const golden: GoldenOptions | undefined = opts.golden ? { dir: goldenDir, update: opts.golden.update, ci, displayRoot: projectRoot(), index: matrix.name } : undefined;
  let backendFor = opts.backendFor;
  if (!backendFor) {
    const started = await startBackends(kind, [...new Set(cells.map((c) => c.xend))], backendFactory(kind, opts.env, opts.recordingsDir, opts.backendSettings, matrix.scenarios, layers), matrix, fromArgs);
    backendFor = async (x: string) => {
      const b = started.get(x);
      if (!b) throw new HarnessError("internal", `no backend was started for xend ${x}`);
      return b;
    };
  }
  const results = await runCells(cells, {
    backendFor,
    onProgress: opts.onProgress,
    golden,
    wireFor,
  });
  if (golden) flushGoldens(golden);
  const all = expandCells(matrix).map((c) => c.id);
  const obsolete = opts.golden ? obsoleteGoldens(goldenDir, all, matrix.name).map((f) => `${path.relative(projectRoot(), goldenDir).split(path.sep).join("/")}/${f}`) : [];
  return { matrix, cells, results, obsoleteGoldens: obsolete, backend: kind };
}
