/**
 * Goldens: the reviewed observation of each cell, as text with a stable order and no timestamps. A run
 * compares every cell that produced an observation (not skipped, not error) with its golden;
 * `--update-golden` rewrites them atomically (temp file + rename); under CI nothing is written, a
 * missing golden fails, and goldens no cell produces are reported as obsolete.
 *
 * Two layouts (DECISIONS.md, "Goldens stored once per distinct content"):
 *
 * - **content-addressed** (what `run` writes, `GoldenOptions.index` set to the matrix's name): each
 *   distinct golden text once, `<dir>/objects/<digest>.txt`, with the cell's own domain name and uuid
 *   written as `{name}` and `{uuid}` and no cell id or profile line (so the thousands of cells that
 *   observe the same thing share one file); one index per matrix, `<dir>/index/<matrix>.tsv`, one line
 *   `<cell id> TAB <digest>` per cell. A run compares digests; the object is read only to show a diff.
 * - **per cell** (older layout, still read): `<dir>/<xend>/<libvirt>/<scenario>.txt`. A content-addressed
 *   run without an index line for a cell compares that file; `--update-golden` moves it into the index
 *   (and removes the file once the index is written).
 */
import { createHash } from "node:crypto";
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readSync, realpathSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { writeFileAtomic } from "../fsutil.js";
import { redact } from "../xend/index.js";
import * as path from "node:path";
import { HarnessError } from "../errors.js";
import { cellFile, confine } from "../safepath.js";
import { oneLine } from "../terminal.js";
import type { CellResult, GoldenResult, Observation } from "./types.js";
import { signed } from "./effective.js";

export interface GoldenOptions {
  /** Absolute golden directory (default: <package root>/fixtures/golden). */
  dir: string;
  /** Rewrite goldens that differ or are missing. */
  update: boolean;
  /** CI mode: never write, missing goldens fail. */
  ci: boolean;
  /** How to show golden paths (relative to this); default dir's parent's parent. */
  displayRoot?: string;
  /**
   * The matrix's name: goldens are content-addressed, indexed in `<dir>/index/<index>.tsv` (call
   * flushGoldens after the run). Absent: one file per cell (the older layout).
   */
  index?: string;
}

export function isCI(env: NodeJS.ProcessEnv): boolean {
  const v = env.CI;
  return v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
}

/**
 * The golden file of a cell: <dir>/<xend>/<libvirt>/<scenario>.txt, built only from parts checked as
 * identifiers and confined to `dir` after resolving links (harness/safepath.ts); else exit 2.
 */
export function goldenPath(dir: string, r: Pick<CellResult, "xend" | "libvirt" | "scenario">): string {
  return cellFile(dir, r, ".txt", "golden");
}

type RawSx = string | RawSx[];

/** Read S-expression text keeping every atom exactly as written (quotes included); null if unbalanced. */
function readRaw(text: string): RawSx | null {
  let i = 0;
  const n = text.length;
  const skip = () => {
    while (i < n && /\s/.test(text[i])) i++;
  };
  const one = (): RawSx | null => {
    skip();
    if (i >= n) return null;
    if (text[i] === "(") {
      i++;
      const list: RawSx[] = [];
      for (;;) {
        skip();
        if (i >= n) return null;
        if (text[i] === ")") {
          i++;
          return list;
        }
        const c = one();
        if (c === null) return null;
        list.push(c);
      }
    }
    const start = i;
    if (text[i] === "'" || text[i] === '"') {
      const q = text[i++];
      while (i < n && text[i] !== q) i += text[i] === "\\" ? 2 : 1;
      if (i >= n) return null;
      i++;
      return text.slice(start, i);
    }
    while (i < n && !/[\s()]/.test(text[i])) i++;
    return text.slice(start, i);
  };
  const v = one();
  return v;
}

function flatRaw(x: RawSx): string {
  return typeof x === "string" ? x : `(${x.map(flatRaw).join(" ")})`;
}

function prettyRaw(x: RawSx, depth: number): string {
  const flat = flatRaw(x);
  if (typeof x === "string" || flat.length + depth * 4 <= 100 || x.length <= 1) return flat;
  const pad = "    ".repeat(depth + 1);
  return `(${flatRaw(x[0])}` + x.slice(1).map((c) => `\n${pad}${prettyRaw(c, depth + 1)}`).join("") + ")";
}

/** The SXPR as sent, one element per line where it is long; atoms exactly as libvirt wrote them. */
function prettySxpr(text: string): string {
  let p = pretty.get(text);
  if (p === undefined) {
    const t = readRaw(text);
    p = t === null ? text : prettyRaw(t, 0);
    if (pretty.size >= 512) pretty.clear();
    pretty.set(text, p);
  }
  return p;
}
/** prettySxpr by text: cells of every xend version send the same SXPR for a (profile, scenario). */
const pretty = new Map<string, string>();

/** Forget the remembered pretty SXPRs (the bench: each repetition starts as a new process would). */
export function forgetPretty(): void {
  pretty.clear();
}

function indent(s: string, pad = "    "): string {
  return s
    .split("\n")
    .map((l) => (l ? pad + l : l))
    .join("\n");
}

/** The golden text of a cell: what a reviewer needs to accept or reject the observation. */
export function renderGolden(r: Pick<CellResult, "id" | "profileId" | "scenario" | "guest" | "verdict" | "reason">, o: Observation): string {
  const lines: string[] = [];
  lines.push(`# xend-compat golden for cell ${r.id}`);
  lines.push(`# The reviewed observation of this cell; a run fails when it differs (xend-compat run --update-golden rewrites it).`);
  lines.push(`scenario: ${r.scenario} (${r.guest.toUpperCase()})`);
  lines.push(`profile: ${r.profileId}`);
  lines.push(`xend_config_format: ${o.xendConfigFormat ?? "unknown"}`);
  lines.push(`clock before: ${o.clockBefore.xml ?? "none"} = ${o.clockBefore.description}`);
  lines.push(`intent: ${o.intent.description}`);
  if (o.cmdlineBefore !== null) lines.push(`cmdline before: ${JSON.stringify(o.cmdlineBefore)}`);
  lines.push("sxpr sent:");
  lines.push(o.sxprSent === null ? "    (none: libvirt refused)" : indent(prettySxpr(o.sxprSent)));
  if (o.libvirt.error) lines.push(`libvirt error: ${o.libvirt.error}`);
  if (o.xendError) lines.push(`xend error: ${o.xendError}`);
  lines.push("returned localtime:");
  lines.push(o.localtimePaths.length ? o.localtimePaths.map((p) => `    ${p.path} ${p.value ?? "(no single value)"}`).join("\n") : "    (none)");
  lines.push("returned rtc_timeoffset:");
  lines.push(o.rtcTimeoffsetPaths.length ? o.rtcTimeoffsetPaths.map((p) => `    ${p.path} ${p.value ?? "(no single value)"}`).join("\n") : "    (none)");
  lines.push(`clock after: ${o.clockAfter ? `${o.clockAfter.xml ?? "none"} = ${o.clockAfter.description}` : "(no read-back)"}`);
  if (o.cmdlineBefore !== null) lines.push(`cmdline after: ${o.cmdlineAfter === null ? "(none)" : JSON.stringify(o.cmdlineAfter)}`);
  lines.push("effective clock:");
  if (!o.effective.length) lines.push("    (not known)");
  for (const e of o.effective) {
    lines.push(`    ${e.step}: ${signed(e.utcOffset)} by ${e.rule}; intended ${e.intendedOffset === null ? "unknown" : signed(e.intendedOffset)}; host ${signed(e.raw.hostUtcOffset)} (${e.raw.tz})`);
  }
  lines.push(`libvirt warnings: ${o.libvirt.warnings.length ? o.libvirt.warnings.join(" | ") : "none"}`);
  lines.push(`verdict: ${r.verdict}`);
  lines.push(`reason: ${r.reason}`);
  return lines.join("\n") + "\n";
}

/** A small line diff (longest common subsequence), `-` golden, `+` now. */
export function lineDiff(a: string, b: string): string {
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) out.push(`- ${x[i++]}`);
    else out.push(`+ ${y[j++]}`);
  }
  return out.join("\n");
}

function writeAtomic(file: string, text: string): void {
  writeFileAtomic(file, text);
}

/** Reused by readIfExists: golden files are a few KB, read one after another (grows when needed). */
let readBuf = Buffer.allocUnsafe(64 * 1024);

/**
 * The file's text, or null when it does not exist (errors as before). An open, reads into a reused
 * buffer and a close: no stat and no new buffer per golden, as readFileSync would.
 */
function readIfExists(file: string): string | null {
  let fd: number;
  try {
    // Non-blocking: a FIFO put where a golden belongs must not hang the run (refused below).
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // goldenPath has refused dangling and looping links already: ENOENT is a golden not yet written.
    if (code === "ENOENT") return null;
    throw new HarnessError("input.golden", `cannot read golden ${oneLine(file)}: ${code ?? (e as Error).message}`, { cause: e });
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new HarnessError("input.golden", `cannot read golden ${oneLine(file)}: not a regular file`);
  }
  try {
    let n = 0;
    for (;;) {
      if (n === readBuf.length) {
        const bigger = Buffer.allocUnsafe(readBuf.length * 2);
        readBuf.copy(bigger, 0, 0, n);
        readBuf = bigger;
      }
      const got = readSync(fd, readBuf, n, readBuf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return readBuf.toString("utf8", 0, n);
  } finally {
    closeSync(fd);
  }
}

/** What a cell would have given had a documented race of xend gone the other way (races.ts). */
export interface RaceOutcome {
  verdict: CellResult["verdict"];
  reason: string;
  observation: Observation;
  /** e.g. `rtc_timeoffset 0 in this run, 10800 in the golden: <why>` */
  what: string;
}

/**
 * Compare (and maybe update) the golden of one result. `raceOutcomes` gives what the cell would have
 * given had one of xend's documented races gone the other way: a golden equal to one of those (with
 * the same verdict) matches too, and is not rewritten; nothing else is masked.
 */
export function checkGolden(r: CellResult, opts: GoldenOptions, raceOutcomes?: () => RaceOutcome[]): GoldenResult {
  const store = opts.index !== undefined ? storeOf(opts) : null;
  const shownOf = (file: string) => path.relative(opts.displayRoot ?? path.dirname(path.dirname(opts.dir)), file).split(path.sep).join("/");
  const shown = store ? shownOf(store.file) : shownOf(goldenPath(opts.dir, r));
  if (r.verdict === "skipped" || r.verdict === "error") return { status: "not-compared", file: shown, detail: `cell ${r.verdict}` };
  // A source tree's cells (src:DIR) have no goldens of their own and never write one: `diff --from
  // <release> --to src:DIR` compares them with the release.
  if (r.libvirt.startsWith("src:")) return { status: "not-compared", file: shown, detail: "a libvirt source tree (src:DIR) has no goldens; compare it with its release using diff" };
  if (store) return checkStored(store, r, opts, raceOutcomes, shownOf);
  const file = goldenPath(opts.dir, r);
  // Secrets (vncpasswd, passwd, password) never reach a golden file.
  const now = redact(renderGolden(r, r.observation));
  const before = readIfExists(file);
  if (before === now) return { status: "match", file: shown };
  if (before !== null && raceOutcomes) {
    for (const alt of raceOutcomes()) {
      if (alt.verdict !== r.verdict) continue;
      if (redact(renderGolden({ ...r, verdict: alt.verdict, reason: alt.reason }, alt.observation)) === before)
        return { status: "match", file: shown, detail: `the golden holds the other outcome of a race of xend (${alt.what})` };
    }
  }
  if (opts.update) {
    refuseUnderCI(opts);
    writeGolden(file, now, shown);
    return { status: "written", file: shown, detail: before === null ? "new" : "updated" };
  }
  if (before === null) return { status: "missing", file: shown };
  return { status: "mismatch", file: shown, diff: lineDiff(before, now) };
}

function refuseUnderCI(opts: GoldenOptions): void {
  if (opts.ci) throw new HarnessError("input.usage", "--update-golden refuses to write under CI (the CI environment variable is set)");
}

/** Write one golden file; a failure is exit 2 naming the file, never a pass with nothing written. */
function writeGolden(file: string, text: string, shown: string): void {
  try {
    writeAtomic(file, text);
  } catch (e) {
    if (e instanceof HarnessError) throw e; // the one writer's own error already names the path (exit 2)
    const err = e as NodeJS.ErrnoException;
    throw new HarnessError("input.golden", `cannot write golden ${shown}: ${err.code ? `${err.code} (${err.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "")})` : String(e)}`, { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------------
// Content-addressed goldens: objects/<digest>.txt once per distinct text, index/<matrix>.tsv per matrix.

/** Folders of the content-addressed layout inside a golden directory. */
export const GOLDEN_OBJECTS = "objects";
export const GOLDEN_INDEX = "index";

/** The digest naming a golden text: the first 16 hex digits of its SHA-256 (a clash is refused when written). */
export function goldenDigest(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

const DIGEST = /^[0-9a-f]{16}$/;

/**
 * The golden text as stored once for every cell that observes the same: no cell id, no profile line,
 * and the cell's own domain name and uuid (from the domain XML the cell sent) written as `{name}` and
 * `{uuid}`. Secrets are redacted as in every golden.
 */
export function sharedGolden(r: Pick<CellResult, "id" | "profileId" | "scenario" | "guest" | "verdict" | "reason">, o: Observation): string {
  const lines = redact(renderGolden(r, o)).split("\n");
  lines[0] = "# xend-compat golden: the reviewed observation of every cell the golden index maps to this file";
  lines[1] = "# ({name} and {uuid} stand for each cell's own domain; a run fails when a cell differs; xend-compat run --update-golden rewrites).";
  let text = lines.filter((l) => !l.startsWith("profile: ")).join("\n");
  const name = /<name>([^<]+)<\/name>/.exec(o.xmlIn)?.[1];
  const uuid = /<uuid>([^<]+)<\/uuid>/.exec(o.xmlIn)?.[1];
  if (name) text = text.split(name).join("{name}");
  if (uuid) text = text.split(uuid).join("{uuid}");
  return text;
}

interface Store {
  readonly dir: string;
  readonly name: string;
  /** The index file, index/<name>.tsv. */
  readonly file: string;
  /** cell id → digest, as read at the start of the run (and as updated by it). */
  readonly entries: Map<string, string>;
  /** The lines this run changed (applied to the index as it is on disk when flushed). */
  readonly changed: Map<string, string>;
  /** Per-cell golden files moved into the index, removed once the index is written. */
  readonly moved: string[];
  /** Objects known to exist with their text. */
  readonly objects: Set<string>;
  /** digest → the object's path as shown (confined once per run, not once per cell). */
  readonly shown: Map<string, string>;
}

const STORES = new WeakMap<GoldenOptions, Store>();

function storeOf(opts: GoldenOptions): Store {
  let s = STORES.get(opts);
  if (!s) {
    const name = opts.index!;
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new HarnessError("input.golden", `golden index '${oneLine(name)}': expected a matrix name (lower case, digits, -)`);
    const file = confine(opts.dir, path.join(opts.dir, GOLDEN_INDEX, `${name}.tsv`), "golden index");
    s = { dir: opts.dir, name, file, entries: readIndex(file), changed: new Map(), moved: [], objects: new Set(), shown: new Map() };
    STORES.set(opts, s);
  }
  return s;
}

/**
 * One index line as [cell id, digest], or null: what /^([^\t\s]+\/[^\t\s]+\/[^\t\s]+)\t([0-9a-f]{16})$/
 * accepts, without its backtracking (that regular expression took ~18 ms a run on the full matrix's
 * 24,000-line index): the id is white-space-free text with a '/' after its first character and a later
 * one at least two characters further that is not its last character. test/golden-index.test.ts
 * checks the two agree.
 */
export function indexLine(line: string): [string, string] | null {
  const tab = line.length - 17;
  if (tab < 5 || line.charCodeAt(tab) !== 9) return null;
  const digest = line.slice(tab + 1);
  if (!DIGEST_16.test(digest)) return null;
  const id = line.slice(0, tab);
  if (WHITE.test(id)) return null;
  const first = id.indexOf("/", 1);
  const last = id.lastIndexOf("/", id.length - 2);
  return first >= 1 && last >= first + 2 ? [id, digest] : null;
}
const DIGEST_16 = /^[0-9a-f]{16}$/;
const WHITE = /\s/;

/** An index file: `# comment` lines and `<cell id> TAB <digest>` lines; missing file: empty. */
export function readIndex(file: string): Map<string, string> {
  const out = new Map<string, string>();
  const text = readIfExists(file);
  if (text === null) return out;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === "" || line.startsWith("#")) continue;
    const m = indexLine(line);
    if (!m) throw new HarnessError("input.golden", `${oneLine(file)}:${i + 1}: expected '<xend>/<libvirt>/<scenario> TAB <16 hex digits>', got '${oneLine(line.slice(0, 80))}'`);
    if (out.has(m[0])) throw new HarnessError("input.golden", `${oneLine(file)}:${i + 1}: cell ${m[0]} is listed twice`);
    out.set(m[0], m[1]);
  }
  return out;
}

function objectFile(dir: string, digest: string): string {
  return confine(dir, path.join(dir, GOLDEN_OBJECTS, `${digest}.txt`), "golden");
}

/** Store one object (once); an object of that name with other text is a clash, refused by name. */
function putObject(st: Store, digest: string, text: string, shownOf: (f: string) => string): void {
  if (st.objects.has(digest)) return;
  const file = objectFile(st.dir, digest);
  const there = readIfExists(file);
  if (there === null) writeGolden(file, text, shownOf(file));
  else if (there !== text) throw new HarnessError("input.golden", `golden ${shownOf(file)} holds another text with the same digest (edited by hand? remove it and run --update-golden)`);
  st.objects.add(digest);
}

/**
 * A golden matched by its digest is read once per run and must hold the text its name says: an object
 * edited by hand (or missing) is bad input naming the file, never a silent match.
 */
function verifyObject(st: Store, digest: string, shownOf: (f: string) => string, rewrite?: string): void {
  if (st.objects.has(digest)) return;
  const file = objectFile(st.dir, digest);
  const text = readIfExists(file);
  if (rewrite !== undefined && (text === null || goldenDigest(text) !== digest)) {
    // --update-golden puts back the text the index names
    writeGolden(file, rewrite, shownOf(file));
    st.objects.add(digest);
    return;
  }
  if (text === null) throw new HarnessError("input.golden", `golden ${shownOf(file)}, named by ${shownOf(st.file)}, does not exist (run --update-golden outside CI)`);
  if (goldenDigest(text) !== digest) throw new HarnessError("input.golden", `golden ${shownOf(file)} does not hold the text its name says (edited by hand? golden files are written by --update-golden; restore it or run --update-golden)`);
  st.objects.add(digest);
}

function checkStored(st: Store, r: CellResult, opts: GoldenOptions, raceOutcomes: (() => RaceOutcome[]) | undefined, shownOf: (f: string) => string): GoldenResult {
  const now = sharedGolden(r, r.observation);
  const digest = goldenDigest(now);
  const have = st.entries.get(r.id);
  const set = (d: string, text: string) => {
    refuseUnderCI(opts);
    putObject(st, d, text, shownOf);
    st.entries.set(r.id, d);
    st.changed.set(r.id, d);
  };
  if (have !== undefined) {
    if (have === digest) {
      verifyObject(st, digest, shownOf, opts.update && !opts.ci ? now : undefined);
      let file = st.shown.get(digest);
      if (file === undefined) st.shown.set(digest, (file = shownOf(objectFile(st.dir, digest))));
      return { status: "match", file };
    }
    if (raceOutcomes) {
      for (const alt of raceOutcomes()) {
        if (alt.verdict !== r.verdict) continue;
        if (goldenDigest(sharedGolden({ ...r, verdict: alt.verdict, reason: alt.reason }, alt.observation)) === have)
          return { status: "match", file: shownOf(objectFile(st.dir, have)), detail: `the golden holds the other outcome of a race of xend (${alt.what})` };
      }
    }
    if (opts.update) {
      set(digest, now);
      return { status: "written", file: shownOf(objectFile(st.dir, digest)), detail: "updated" };
    }
    const file = objectFile(st.dir, have);
    const before = readIfExists(file);
    if (before === null) return { status: "mismatch", file: shownOf(file), diff: `golden ${shownOf(file)} (named by ${shownOf(st.file)} for ${r.id}) does not exist` };
    return { status: "mismatch", file: shownOf(file), diff: lineDiff(before, now) };
  }
  // No index line: the cell's golden of the per-cell layout, if any (moved into the index on update).
  const legacy = goldenPath(st.dir, r);
  const before = readIfExists(legacy);
  if (before !== null) {
    let keep: string | null = before === redact(renderGolden(r, r.observation)) ? now : null;
    let detail = "";
    if (keep === null && raceOutcomes) {
      for (const alt of raceOutcomes()) {
        if (alt.verdict !== r.verdict) continue;
        const altRow = { ...r, verdict: alt.verdict, reason: alt.reason };
        if (redact(renderGolden(altRow, alt.observation)) === before) {
          keep = sharedGolden(altRow, alt.observation);
          detail = ` (the golden holds the other outcome of a race of xend: ${alt.what})`;
          break;
        }
      }
    }
    if (opts.update) {
      set(keep !== null ? goldenDigest(keep) : digest, keep ?? now);
      st.moved.push(legacy);
      return { status: "written", file: shownOf(objectFile(st.dir, st.entries.get(r.id)!)), detail: keep !== null ? `moved from ${shownOf(legacy)}${detail}` : `updated (was ${shownOf(legacy)})` };
    }
    if (keep !== null) return { status: "match", file: shownOf(legacy), detail: `a per-cell golden (older layout; --update-golden moves it into ${shownOf(st.file)})${detail}` };
    return { status: "mismatch", file: shownOf(legacy), diff: lineDiff(before, redact(renderGolden(r, r.observation))) };
  }
  if (opts.update) {
    set(digest, now);
    return { status: "written", file: shownOf(objectFile(st.dir, digest)), detail: "new" };
  }
  return { status: "missing", file: shownOf(st.file), detail: `no line for ${r.id}` };
}

/**
 * After a run with content-addressed goldens: write the index lines the run changed (onto the index
 * as it is on disk now, so a run over part of the matrix keeps the other lines), remove the per-cell
 * files moved into it, and remove objects no index of the directory names any more. Nothing to do
 * when the run wrote nothing.
 */
export function flushGoldens(opts: GoldenOptions): { written: number; moved: number; removedObjects: number } {
  const st = STORES.get(opts);
  if (!st || (st.changed.size === 0 && st.moved.length === 0)) return { written: 0, moved: 0, removedObjects: 0 };
  refuseUnderCI(opts);
  const entries = readIndex(st.file);
  for (const [id, d] of st.changed) entries.set(id, d);
  const ids = [...entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const text =
    `# xend-compat golden index of matrix '${st.name}': one line per cell, "<cell id> TAB <digest>"; the cell's golden is\n` +
    `# ${GOLDEN_OBJECTS}/<digest>.txt, one file shared by every cell that observed the same. Written by xend-compat run --update-golden.\n` +
    ids.map((id) => `${id}\t${entries.get(id)}`).join("\n") +
    "\n";
  writeGolden(st.file, text, st.file);
  for (const f of st.moved) {
    try {
      unlinkSync(f);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new HarnessError("input.golden", `cannot remove the moved golden ${oneLine(f)}: ${(e as NodeJS.ErrnoException).code}`, { cause: e });
    }
    // Empty <xend>/<libvirt> folders of the per-cell layout go with their last file.
    for (let d = path.dirname(f); d !== st.dir && d.startsWith(st.dir); d = path.dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        break;
      }
    }
  }
  const unreferenced = unreferencedObjects(st.dir, true);
  for (const d of unreferenced) unlinkSync(objectFile(st.dir, d));
  const out = { written: st.changed.size, moved: st.moved.length, removedObjects: unreferenced.length };
  st.changed.clear();
  st.moved.length = 0;
  return out;
}

/**
 * The digests an index names, without checking its lines: for the read-only report of unreferenced
 * objects, which every run makes over every index of the directory (the full matrix's index has 25,500
 * lines: checking each was most of the cost). A malformed line names no digest here; the run of that
 * index's own matrix reports it.
 */
function namedDigests(file: string, into: Set<string>): void {
  const text = readIfExists(file);
  if (text === null) return;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    if (end - start > 17 && text.charCodeAt(start) !== 35 && text.charCodeAt(end - 17) === 9) into.add(text.slice(end - 16, end));
    start = end + 1;
  }
}

/**
 * Objects of a golden directory that no index of it names. `strict` (before removing them, under
 * --update-golden): every index is read with its lines checked, so a malformed index stops the removal
 * instead of orphaning the objects it names.
 */
function unreferencedObjects(dir: string, strict: boolean): string[] {
  const objects = path.join(dir, GOLDEN_OBJECTS);
  if (!existsSync(objects)) return [];
  const named = new Set<string>();
  const indexDir = path.join(dir, GOLDEN_INDEX);
  if (existsSync(indexDir)) {
    for (const f of readdirSync(indexDir).sort()) {
      if (!f.endsWith(".tsv")) continue;
      const file = confine(dir, path.join(indexDir, f), "golden index");
      if (strict) for (const d of readIndex(file).values()) named.add(d);
      else namedDigests(file, named);
    }
  }
  return readdirSync(objects)
    .filter((f) => f.endsWith(".txt") && DIGEST.test(f.slice(0, -4)) && !named.has(f.slice(0, -4)))
    .map((f) => f.slice(0, -4))
    .sort();
}

/**
 * Goldens no cell of `expectedIds` (xend/libvirt/scenario) would produce: per-cell files, and with
 * `index` (the matrix's name) that index's lines for other cells (`index/<name>.tsv: <cell id>`) and
 * objects no index of the directory names.
 */
export function obsoleteGoldens(dir: string, expectedIds: Iterable<string>, index?: string): string[] {
  const want = new Set(expectedIds);
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  if (index !== undefined) {
    const file = confine(dir, path.join(dir, GOLDEN_INDEX, `${index}.tsv`), "golden index");
    for (const id of readIndex(file).keys()) if (!want.has(id)) out.push(`${GOLDEN_INDEX}/${index}.tsv: ${id}`);
    for (const d of unreferencedObjects(dir, false)) out.push(`${GOLDEN_OBJECTS}/${d}.txt`);
  }
  // Real paths of the directories walked: a link back to one of them is a loop, refused by name.
  const seen = new Set<string>();
  const walk = (d: string, rel: string[]) => {
    const real = realpathSync.native(d);
    if (seen.has(real)) throw new HarnessError("input.golden", `golden tree ${oneLine(d)}: a symbolic link loop (back to ${oneLine(real)})`);
    seen.add(real);
    let listed;
    try {
      listed = readdirSync(d, { withFileTypes: true });
    } catch (e) {
      throw new HarnessError("input.golden", `cannot list golden directory ${oneLine(d)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
    // Entry types from the directory listing (no stat per file); a symbolic link is checked to stay
    // inside the golden tree (dangling, looping or escaping: exit 2 naming it), then followed.
    const entries = listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const name = entry.name;
      // The content-addressed layout's folders (reported above) are not cells' folders.
      if (rel.length === 0 && (name === GOLDEN_OBJECTS || name === GOLDEN_INDEX)) continue;
      const p = path.join(d, name);
      let isDir = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        confine(dir, p, "golden");
        isDir = statSync(p).isDirectory();
      }
      if (isDir) walk(p, [...rel, name]);
      else if (name.endsWith(".txt")) {
        const id = [...rel, name.slice(0, -4)].join("/");
        if (!want.has(id)) out.push(path.join(...rel, name).split(path.sep).join("/"));
      }
    }
  };
  walk(dir, []);
  return out;
}
