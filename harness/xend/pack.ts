/**
 * Compiled recordings: the YAML files of a recordings directory (the reviewable source) compiled
 * into one pack, JSON read with `JSON.parse`, cached per directory under the user's cache directory
 * and rebuilt when a source changes. Replay reads the pack, never the YAML.
 *
 * A pack holds each recording as a *conversation*: its exchanges with the domain's name and uuid
 * replaced by placeholders in every request and answer, so that one recording answers every cell
 * that sends the same requests up to its instance (./recorded.ts matches on the rest). Each
 * exchange carries its match key (method, path and body of a request, or kind and delta of a control
 * step), so matching a request is one string comparison or one map lookup.
 *
 * Staleness: the pack records the file list (its hash), and each file's size and mtime. Same list,
 * sizes and mtimes: fresh. Same list and sizes but another mtime (a checkout, a copy): in doubt, so
 * the sources are hashed and compared with the pack's content hash. Anything else: recompiled.
 * Under CI, with XEND_COMPAT_CACHE_DIR=off, or where the cache cannot be written (read-only home),
 * the pack is compiled in memory and nothing is written.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { kindOf, writeFileAtomic } from "../fsutil.js";
import { checkCellParts, xendDir } from "../safepath.js";
import { HarnessError } from "../errors.js";
import type { SourcePos } from "../errors.js";
import { VERSION } from "../version.js";
import { parseFormPairs } from "./form.js";
import { cellIdOfPath, listRecordings, parseRecordingSync, recordingPath, safeSegment, splitCellId, type RecordingProvenance } from "./recording.js";
import type { ControlReply, ControlStep, HttpRequest, HttpResponse } from "./types.js";

/** Bump when the pack's shape or the compiler's output changes: older packs are recompiled. */
export const PACK_FORMAT = 5;

/**
 * Placeholders for the domain's name and uuid in a conversation (never in HTTP text xend or libvirt
 * write), and for their URL-encoded forms (libvirt 0.9.5 and later escape every character but
 * letters and digits in the define body: `xc%2dhvm`).
 */
export const NAME_MARK = "\u0000name\u0000";
export const UUID_MARK = "\u0000uuid\u0000";
export const NAME_ENC_MARK = "\u0000name%\u0000";
export const UUID_ENC_MARK = "\u0000uuid%\u0000";

/** `s` with every character but letters and digits as %xx (libvirt's escaping, of UTF-8 bytes), lower- or upper-case hex. */
function escapeAll(s: string, upper: boolean): string {
  return s.replace(/[^A-Za-z0-9]/gu, (c) => {
    let out = "";
    for (const b of Buffer.from(c, "utf8")) out += "%" + (upper ? b.toString(16).toUpperCase() : b.toString(16)).padStart(2, "0");
    return out;
  });
}

function replaceAllOf(s: string, what: string, by: string): string {
  return what && s.includes(what) ? s.split(what).join(by) : s;
}

/**
 * One exchange of a conversation. A request keeps only the header replay compares (Content-Type);
 * its match key is exchangeKey(x), computed when the backend builds its tree.
 */
export type PackedExchange =
  | { channel: "xend"; step: string; request: HttpRequest; response: HttpResponse }
  | { channel: "control"; step: string; control: ControlStep; reply: ControlReply };

export interface Conversation {
  /** The cell the recording was made for (its file's place). */
  cell: string;
  /** The xend version of its folder. */
  xend: string;
  /** The recording file, relative to the recordings directory. */
  file: string;
  /** The recorded domain's name and uuid (what the placeholders stand for in this recording). */
  name: string;
  uuid: string;
  /** Index into the pack's provenances (recordings of one session share theirs). */
  provenance: number;
  exchanges: PackedExchange[];
}

/** A recording that cannot be replayed: the error its cell gets (bad input). */
export interface PackError {
  cell: string;
  file: string;
  code: "input.recording" | "input.file";
  message: string;
  line?: number;
  column?: number;
}

export interface Pack {
  format: number;
  harnessVersion: string;
  /** sha256 of the sources: every file's relative path and bytes, in order. */
  contentHash: string;
  /** sha256 of the file list (relative paths in order). */
  listHash: string;
  sources: { file: string; size: number; mtimeMs: number }[];
  provenances: RecordingProvenance[];
  conversations: Conversation[];
  errors: PackError[];
}

// ---------------------------------------------------------------------------------------------
// Normalising and the match keys

/** Normalising and denormalising for one domain instance (the escaped forms computed once). */
export class InstanceText {
  private readonly enc: [string, string][] = [];
  private readonly nameEnc: string;
  private readonly uuidEnc: string;
  constructor(
    readonly name: string,
    readonly uuid: string,
  ) {
    this.nameEnc = escapeAll(name, false);
    this.uuidEnc = escapeAll(uuid, false);
    for (const upper of [false, true]) {
      const n = escapeAll(name, upper);
      const u = escapeAll(uuid, upper);
      if (n !== name && !this.enc.some(([w]) => w === n)) this.enc.push([n, NAME_ENC_MARK]);
      if (u !== uuid && !this.enc.some(([w]) => w === u)) this.enc.push([u, UUID_ENC_MARK]);
    }
  }

  /** `s` with every occurrence of the name and uuid (plain or URL-encoded) replaced by their placeholders. */
  normalise(s: string): string {
    let out = replaceAllOf(s, this.name, NAME_MARK);
    out = replaceAllOf(out, this.uuid, UUID_MARK);
    if (out.includes("%")) for (const [what, by] of this.enc) out = replaceAllOf(out, what, by);
    return out;
  }

  /** `s` with the placeholders replaced by the name and uuid (encoded ones as libvirt encodes). */
  denormalise(s: string): string {
    if (!s.includes("\u0000")) return s;
    let out = s.split(NAME_MARK).join(this.name).split(UUID_MARK).join(this.uuid);
    if (out.includes("\u0000")) out = out.split(NAME_ENC_MARK).join(this.nameEnc).split(UUID_ENC_MARK).join(this.uuidEnc);
    return out;
  }
}

/** `s` with every occurrence of the name and uuid (plain or URL-encoded) replaced by their placeholders. */
export function normalise(s: string, name: string, uuid: string): string {
  return new InstanceText(name, uuid).normalise(s);
}

/** `s` with the placeholders replaced by this cell's name and uuid (encoded ones as libvirt encodes). */
export function denormalise(s: string, name: string, uuid: string): string {
  return new InstanceText(name, uuid).denormalise(s);
}

export function requestKey(method: string, p: string, body: string | undefined): string {
  return `${method} ${p}\n${body ?? ""}`;
}

/** The match key of a recorded exchange: what a sent request or control step must equal (after normalising). */
export function exchangeKey(x: PackedExchange): string {
  return x.channel === "xend" ? requestKey(x.request.method, x.request.path, x.request.body) : controlKey(x.control);
}

export function controlKey(c: ControlStep): string {
  return c.kind === "guest-set-rtc" ? `control ${c.kind} ${c.domain} ${c.delta}` : `control ${c.kind} ${c.domain}`;
}

/** The domain name and uuid a recording was made with: from its define request, else its paths and control steps. */
function identityOf(exchanges: ReturnType<typeof parseRecordingSync>["exchanges"]): { name: string; uuid: string } {
  let name = "";
  let uuid = "";
  for (const x of exchanges) {
    if (x.channel === "xend" && x.request.method === "POST" && x.request.path === "/xend/domain/" && x.request.body) {
      for (const p of parseFormPairs(x.request.body, "utf8")) {
        if (p.name !== "config") continue;
        name ||= /\(name '?([^' )]+)'?\)/.exec(p.value)?.[1] ?? "";
        uuid ||= /\(uuid '?([0-9a-fA-F-]{32,36})'?\)/.exec(p.value)?.[1] ?? "";
      }
    }
    if (!name && x.channel === "xend") name = /^\/xend\/domain\/([^/?]+)/.exec(x.request.path)?.[1] ?? "";
    if (!name && x.channel === "control") name = x.control.domain;
  }
  return { name, uuid };
}

function packExchanges(rec: ReturnType<typeof parseRecordingSync>, name: string, uuid: string): PackedExchange[] {
  const n = (s: string) => normalise(s, name, uuid);
  const nh = (h: [string, string][]): [string, string][] => h.map(([k, v]) => [k, n(v)]);
  return rec.exchanges.map((x): PackedExchange => {
    if (x.channel === "xend") {
      const request: HttpRequest = { method: x.request.method, path: n(x.request.path), headers: nh(x.request.headers.filter(([k]) => k.toLowerCase() === "content-type")) };
      if (x.request.body !== undefined) request.body = n(x.request.body);
      const response: HttpResponse = { status: x.response.status, reason: n(x.response.reason), headers: nh(x.response.headers), body: n(x.response.body) };
      return { channel: "xend", step: x.step, request, response };
    }
    const control: ControlStep = { ...x.control, domain: n(x.control.domain) };
    const reply: ControlReply = { ...x.reply };
    if (x.reply.detail !== undefined) reply.detail = n(x.reply.detail);
    return { channel: "control", step: x.step, control, reply };
  });
}

/** Where `key:` is in a recording's text (its value's line and column), for messages about that key. */
function keyPos(text: string, key: string): { line?: number; column?: number } {
  const lines = text.split("\n");
  const re = new RegExp(`^(\\s*${key}:\\s*)\\S`);
  for (let i = 0; i < lines.length; i++) {
    const m = re.exec(lines[i]);
    if (m) return { line: i + 1, column: m[1].length + 1 };
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Compiling

interface Source {
  file: string;
  abs: string;
  cellId: string;
  size: number;
  mtimeMs: number;
  /** Why the entry is not read (not a regular file, a link out of the folder): its cell's error says so. */
  kind?: string;
}

/** The recording files under `dir` (only `dir/<xend>/` when `xend` is given), with their sizes and mtimes, in file order. */
function sources(dir: string, xend?: string): Source[] {
  const list: { file: string; cellId: string; plain?: boolean }[] = xend === undefined ? listRecordings(dir) : listRecordingsOf(dir, xend);
  return list.map(({ file, cellId, plain }) => {
    // A link that resolves outside the recordings folder is never read (harness/safepath.ts); the
    // backend refuses its cell when it opens it. A regular file listed in a real directory of the
    // confined xend folder (`plain`) is inside it: only its cell id's parts are checked.
    let outside: string | undefined;
    try {
      if (plain) checkCellParts(splitCellId(cellId));
      else recordingPath(dir, cellId);
    } catch (e) {
      if (!(e instanceof HarnessError)) throw e;
      outside = e.message;
    }
    let st: fs.Stats | undefined;
    if (!outside) {
      try {
        st = fs.statSync(file);
      } catch (e) {
        outside = (e as Error).message; // e.g. a link to nothing
      }
    }
    st ??= fs.lstatSync(file);
    const kind = outside ? { kind: outside } : st.isFile() ? {} : { kind: `it is ${kindOf(st)}, not a regular file` };
    return { file: path.relative(dir, file), abs: file, cellId, size: st.size, mtimeMs: st.mtimeMs, ...kind };
  });
}

/**
 * listRecordings for one xend version: only `dir/<xend>/<libvirt>/<scenario>.yaml` is walked. `plain`:
 * a regular file (no link) in a directory that is no link either, under the confined xend folder.
 */
function listRecordingsOf(dir: string, xend: string): { file: string; cellId: string; plain: boolean }[] {
  const out: { file: string; cellId: string; plain: boolean }[] = [];
  let libvirts: fs.Dirent[];
  let top: string;
  try {
    // The xend version checked as an identifier and its folder confined to `dir` (harness/safepath.ts).
    top = xendDir(dir, xend, "recordings", safeSegment);
    libvirts = fs.readdirSync(top, { withFileTypes: true });
  } catch (e) {
    if (e instanceof HarnessError) throw e;
    return out;
  }
  for (const l of libvirts) {
    if (!l.isDirectory()) continue;
    let files: fs.Dirent[];
    try {
      files = fs.readdirSync(path.join(top, l.name), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const f of files) {
      // A directory or FIFO where a recording belongs is listed too: its cell gets the error (no read, no hang).
      if (!f.name.endsWith(".yaml") || f.name.startsWith(".")) continue;
      const file = path.join(top, l.name, f.name);
      const cellId = cellIdOfPath(dir, file);
      if (cellId) out.push({ file, cellId, plain: f.isFile() });
    }
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

function listHash(src: Source[]): string {
  return createHash("sha256").update(src.map((s) => s.file).join("\n")).digest("hex");
}

function contentHash(texts: { file: string; bytes: Buffer }[]): string {
  const h = createHash("sha256");
  for (const t of texts) h.update(`${t.file}\n${t.bytes.length}\n`).update(t.bytes);
  return h.digest("hex");
}

/** Compile the recordings of `dir` (already listed) into a pack. */
function compile(dir: string, src: Source[]): Pack {
  const unreadable = new Map<string, string>();
  const texts = src.map((s) => {
    try {
      if (s.kind) throw new Error(s.kind);
      return { file: s.file, bytes: fs.readFileSync(s.abs) };
    } catch (e) {
      unreadable.set(s.file, (e as Error).message);
      return { file: s.file, bytes: Buffer.alloc(0) };
    }
  });
  const conversations: Conversation[] = [];
  const errors: PackError[] = [];
  const provenances: RecordingProvenance[] = [];
  const provIndex = new Map<string, number>();
  for (let i = 0; i < src.length; i++) {
    const s = src[i];
    const text = texts[i].bytes.toString("utf8");
    const xend = s.cellId.split("/")[0];
    const cannot = unreadable.get(s.file);
    if (cannot !== undefined) {
      errors.push({ cell: s.cellId, file: s.file, code: "input.file", message: `cannot read recording ${path.relative(process.cwd(), s.abs) || s.abs}: ${cannot}` });
      continue;
    }
    let rec;
    try {
      rec = parseRecordingSync(text, s.abs);
    } catch (e) {
      const he = e instanceof HarnessError ? e : undefined;
      errors.push({
        cell: s.cellId,
        file: s.file,
        code: he?.code === "input.file" ? "input.file" : "input.recording",
        message: he ? he.message : String(e),
        ...(he?.pos?.line !== undefined ? { line: he.pos.line } : {}),
        ...(he?.pos?.column !== undefined ? { column: he.pos.column } : {}),
      });
      continue;
    }
    if (rec.provenance.xendVersion !== xend) {
      errors.push({
        cell: s.cellId,
        file: s.file,
        code: "input.recording",
        message: `recording is for xend ${rec.provenance.xendVersion}, not ${xend} (replay refuses a recording of another xend version)`,
        ...keyPos(text, "xendVersion"),
      });
      continue;
    }
    if (rec.cell !== s.cellId) {
      errors.push({ cell: s.cellId, file: s.file, code: "input.recording", message: `recording is for cell '${rec.cell}', not '${s.cellId}' (was the file moved?)`, ...keyPos(text, "cell") });
      continue;
    }
    const { name, uuid } = identityOf(rec.exchanges);
    const pk = JSON.stringify(rec.provenance);
    let provenance = provIndex.get(pk);
    if (provenance === undefined) {
      provenance = provenances.push(rec.provenance) - 1;
      provIndex.set(pk, provenance);
    }
    conversations.push({ cell: s.cellId, xend, file: s.file, name, uuid, provenance, exchanges: packExchanges(rec, name, uuid) });
  }
  // Cell order, versions compared as numbers: the order replay prefers conversations in.
  conversations.sort((a, b) => a.cell.localeCompare(b.cell, "en", { numeric: true }));
  return {
    format: PACK_FORMAT,
    harnessVersion: VERSION,
    contentHash: contentHash(texts),
    listHash: listHash(src),
    sources: src.map((s) => ({ file: s.file, size: s.size, mtimeMs: s.mtimeMs })),
    provenances,
    conversations,
    errors,
  };
}

// ---------------------------------------------------------------------------------------------
// The cache

/** Where packs are cached (`…/xend-compat/packs`), or null: compile in memory (CI, XEND_COMPAT_CACHE_DIR=off). */
export function packCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const set = env.XEND_COMPAT_CACHE_DIR;
  if (set === "off") return null;
  if (set) return path.join(path.resolve(set), "packs");
  if (env.CI !== undefined && env.CI !== "" && env.CI !== "false" && env.CI !== "0") return null;
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
  return path.join(base, "xend-compat", "packs");
}

/** The cache file of a recordings directory's pack (of one xend version's recordings when `xend` is given). */
export function packFile(cacheDir: string, dir: string, xend?: string): string {
  let real = dir;
  try {
    real = fs.realpathSync(dir);
  } catch {
    /* the path as given */
  }
  return path.join(cacheDir, createHash("sha256").update(`${real}\n${xend ?? "*"}`).digest("hex").slice(0, 32) + ".json");
}

function readCached(file: string): Pack | undefined {
  try {
    const p = JSON.parse(fs.readFileSync(file, "utf8")) as Pack;
    return p && p.format === PACK_FORMAT && p.harnessVersion === VERSION && Array.isArray(p.conversations) ? p : undefined;
  } catch {
    return undefined; // missing or unreadable: compile anew
  }
}

function sameStats(p: Pack, src: Source[]): "same" | "doubt" | "changed" {
  if (p.sources.length !== src.length || p.listHash !== listHash(src)) return "changed";
  let doubt = false;
  for (let i = 0; i < src.length; i++) {
    const a = p.sources[i];
    const b = src[i];
    if (a.file !== b.file || a.size !== b.size) return "changed";
    if (a.mtimeMs !== b.mtimeMs) doubt = true;
  }
  return doubt ? "doubt" : "same";
}

/** Are the sources of `dir` still those `pack` was compiled from (file list, sizes, mtimes)? */
export function packIsFresh(dir: string, pack: Pack, xend?: string): boolean {
  return sameStats(pack, sources(path.resolve(dir), xend)) === "same";
}

export interface LoadedPack {
  pack: Pack;
  /** How it was had: read from the cache, compiled and written to it, or compiled in memory only. */
  how: "cached" | "compiled" | "memory";
  /** The cache file, when there is a cache. */
  file?: string;
}

/**
 * The pack of `dir` (of its recordings of one xend version when `xend` is given: a run reads only the
 * packs of its xend versions): the cached one when its sources are unchanged, else compiled (and
 * cached when `cacheDir` is given and writable).
 */
export function loadPack(dir: string, cacheDir: string | null = packCacheDir(), xend?: string): LoadedPack {
  const abs = path.resolve(dir);
  const src = sources(abs, xend);
  const file = cacheDir ? packFile(cacheDir, abs, xend) : undefined;
  if (file) {
    const cached = readCached(file);
    if (cached) {
      const s = sameStats(cached, src);
      if (s === "same") return { pack: cached, how: "cached", file };
      if (s === "doubt") {
        const texts = src.map((x) => ({ file: x.file, bytes: fs.readFileSync(x.abs) }));
        if (contentHash(texts) === cached.contentHash) {
          const pack = { ...cached, sources: src.map((x) => ({ file: x.file, size: x.size, mtimeMs: x.mtimeMs })) };
          tryWrite(file, pack);
          return { pack, how: "cached", file };
        }
      }
    }
  }
  const pack = compile(abs, src);
  if (file && tryWrite(file, pack)) return { pack, how: "compiled", file };
  return { pack, how: "memory" };
}

function tryWrite(file: string, pack: Pack): boolean {
  try {
    writeFileAtomic(file, JSON.stringify(pack));
    return true;
  } catch {
    return false; // a read-only cache: the pack lives in memory for this process
  }
}

/** The HarnessError a pack error stands for, its file shown relative to the working directory when inside it. */
export function packErrorToHarness(dir: string, e: PackError, shown: (file: string) => string): HarnessError {
  // A file that could not be read: the message names it already.
  if (e.code === "input.file") return new HarnessError(e.code, e.message);
  const pos: SourcePos = { file: shown(path.join(dir, e.file)) };
  if (e.line !== undefined) pos.line = e.line;
  if (e.column !== undefined) pos.column = e.column;
  return new HarnessError(e.code, e.message, { pos });
}
