/**
 * Goldens: one reviewable text file per cell, fixtures/golden/<xend>/<libvirt>/<scenario>.txt, stable
 * order and no timestamps. A run compares every cell that produced an observation (not skipped, not
 * error) with its golden; `--update-golden` rewrites them atomically (temp file + rename); under CI
 * nothing is written, a missing golden fails, and goldens no cell produces are reported as obsolete.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readSync, realpathSync, statSync } from "node:fs";
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
  const file = goldenPath(opts.dir, r);
  const shown = path.relative(opts.displayRoot ?? path.dirname(path.dirname(opts.dir)), file).split(path.sep).join("/");
  if (r.verdict === "skipped" || r.verdict === "error") return { status: "not-compared", file: shown, detail: `cell ${r.verdict}` };
  // A source tree's cells (src:DIR) have no goldens of their own and never write one: `diff --from
  // <release> --to src:DIR` compares them with the release.
  if (r.libvirt.startsWith("src:")) return { status: "not-compared", file: shown, detail: "a libvirt source tree (src:DIR) has no goldens; compare it with its release using diff" };
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
    if (opts.ci) throw new HarnessError("input.usage", "--update-golden refuses to write under CI (the CI environment variable is set)");
    // A golden that cannot be written is a failure of the run (exit 2 naming the file), never a pass
    // with nothing written.
    try {
      writeAtomic(file, now);
    } catch (e) {
      if (e instanceof HarnessError) throw e; // the one writer's own error already names the path (exit 2)
      const err = e as NodeJS.ErrnoException;
      throw new HarnessError("input.golden", `cannot write golden ${shown}: ${err.code ? `${err.code} (${err.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "")})` : String(e)}`, { cause: e });
    }
    return { status: "written", file: shown, detail: before === null ? "new" : "updated" };
  }
  if (before === null) return { status: "missing", file: shown };
  return { status: "mismatch", file: shown, diff: lineDiff(before, now) };
}

/** Golden files no cell of `expectedIds` (xend/libvirt/scenario) would produce. */
export function obsoleteGoldens(dir: string, expectedIds: Iterable<string>): string[] {
  const want = new Set(expectedIds);
  const out: string[] = [];
  if (!existsSync(dir)) return out;
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
