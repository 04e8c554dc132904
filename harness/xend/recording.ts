/**
 * Recordings: one cell's conversation with a real xend, as reviewable YAML, one file per cell at
 * `<dir>/<xend>/<libvirt>/<scenario>.yaml` (each part of the cell id made file-name safe).
 *
 * Format (`format: 1`):
 *
 *   format: 1
 *   cell: 4.1.2/0.9.11/hvm-utc
 *   provenance: {xendVersion, tree, commit, tz, notes?, backend, harnessVersion, recordedAt}
 *   exchanges:
 *     - step: define                 # the step label that caused it
 *       channel: xend                # an HTTP request to xend and its reply
 *       request: {method, path, headers: ["Name: value", ...], body?, form?}
 *       response: {status, reason, headers: [...], body}
 *     - step: guest changes its RTC
 *       channel: control             # a lifecycle step or question to the backend, and its reply
 *       control: {kind, domain, delta?}
 *       reply: {ok, clock?, detail?}
 *
 * `request.form` is a decoded view of a form body for reviewers only; the loader ignores it, the
 * body is what counts. Secrets are redacted before anything is written (./redact.ts). Writes are
 * atomic: a temporary file in the same directory, then a rename.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HarnessError } from "../errors.js";
import type { SourcePos } from "../errors.js";
import type { BackendKind, ControlReply, ControlStep, HttpRequest, HttpResponse, Provenance } from "./types.js";
import { redact, redactControlReply, redactRequest, redactResponse } from "./redact.js";
import { parseFormPairs } from "./form.js";
import { LineCounter, parse as parseYaml, parseDocument, stringify as stringifyYaml, YAMLParseError } from "yaml";
import { readSxpr, valueAt } from "../sxp/index.js";
import { writeFileAtomic as writeAtomicShared } from "../fsutil.js";
import { cellFile } from "../safepath.js";
import { oneLine, shellCommand } from "../terminal.js";

export const RECORDING_FORMAT = 1;

export interface RecordingProvenance extends Provenance {
  /** Which backend played xend when this was recorded. */
  backend: BackendKind;
  /** xend-compat's version that recorded it. */
  harnessVersion: string;
  /** ISO 8601 UTC time of recording. */
  recordedAt: string;
}

export type RecordedExchange =
  | { channel: "xend"; step: string; request: HttpRequest; response: HttpResponse }
  | { channel: "control"; step: string; control: ControlStep; reply: ControlReply };

export interface Recording {
  format: number;
  cell: string;
  provenance: RecordingProvenance;
  exchanges: RecordedExchange[];
}

// ---------------------------------------------------------------------------------------------
// Cell ids and file names

export interface CellIdParts {
  xend: string;
  libvirt: string;
  scenario: string;
}

export function splitCellId(cellId: string): CellIdParts {
  // The libvirt part may itself hold slashes (src:../libvirt): xend is before the first, scenario after the last.
  const a = cellId.indexOf("/");
  const b = cellId.lastIndexOf("/");
  const parts = [cellId.slice(0, a), cellId.slice(a + 1, b), cellId.slice(b + 1)];
  if (a < 0 || a === b || parts.some((p) => p === "") || (!parts[1].startsWith("src:") && parts[1].includes("/")))
    throw new HarnessError("input.usage", `bad cell id '${oneLine(cellId)}' (expected <xend>/<libvirt>/<scenario>, e.g. 4.1.2/0.9.11/hvm-utc)`);
  return { xend: parts[0], libvirt: parts[1], scenario: parts[2] };
}

/** One path segment: letters, digits, `.`, `_`, `-` kept; anything else as %XX; `.`/`..` escaped. */
export function safeSegment(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9._-]/.test(c) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  if (out === "." || out === "..") out = out.replace(/\./g, "%2E");
  return out;
}

/**
 * Where the recording of `cellId` lives under `dir`: each part checked as an identifier, percent-encoded
 * (`+` as %2B), and the path confined to `dir` after resolving links (harness/safepath.ts).
 */
export function recordingPath(dir: string, cellId: string): string {
  return cellFile(dir, splitCellId(cellId), ".yaml", "recording", safeSegment);
}

/** The cell id a recording file stands for (the inverse of recordingPath), or undefined. */
export function cellIdOfPath(dir: string, file: string): string | undefined {
  const rel = path.relative(dir, file).split(path.sep);
  if (rel.length !== 3 || !rel[2].endsWith(".yaml")) return undefined;
  try {
    const parts = [rel[0], rel[1], rel[2].slice(0, -".yaml".length)].map((p) => decodeURIComponent(p));
    return parts.every((p) => p !== "" && !p.includes("/")) ? parts.join("/") : undefined;
  } catch {
    return undefined;
  }
}

/** Every recording file under `dir` with the cell id it stands for. */
export function listRecordings(dir: string): { file: string; cellId: string }[] {
  const out: { file: string; cellId: string }[] = [];
  const walk = (d: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && depth < 2) walk(p, depth + 1);
      else if (e.isFile() && depth === 2 && e.name.endsWith(".yaml") && !e.name.startsWith(".")) {
        const id = cellIdOfPath(dir, p);
        if (id) out.push({ file: p, cellId: id });
      }
    }
  };
  walk(dir, 0);
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** Recordings under `dir` (optionally only of the given xend versions) that no cell of `cellIds` uses. */
export function obsoleteRecordings(dir: string, cellIds: Iterable<string>, xendVersions?: string[]): { file: string; cellId: string }[] {
  const want = new Set(cellIds);
  return listRecordings(dir).filter((r) => !want.has(r.cellId) && (!xendVersions || xendVersions.includes(r.cellId.split("/")[0])));
}

/** The command that (re)records one cell. */
export function recordCommand(cellId: string): string {
  const { xend, libvirt, scenario } = splitCellId(cellId);
  // Each argument quoted for a POSIX shell (the values come from the matrix and the command line).
  return `${shellCommand(["xend-compat", "record", "--backend", "sandbox", "--xen-src"])} DIR ${shellCommand(["--xend", xend, "--libvirt", libvirt, "--scenario", scenario])}`;
}

// ---------------------------------------------------------------------------------------------
// Writing

function headerLines(h: [string, string][]): string[] {
  return h.map(([k, v]) => `${k}: ${v}`);
}

/** The decoded form, for reviewers. */
function formView(req: HttpRequest): Record<string, string> | undefined {
  if (req.body === undefined || req.body === "") return undefined;
  const ct = req.headers.find(([k]) => k.toLowerCase() === "content-type")?.[1] ?? "";
  if (!ct.toLowerCase().startsWith("application/x-www-form-urlencoded")) return undefined;
  const out: Record<string, string> = {};
  for (const p of parseFormPairs(req.body, "utf8")) {
    out[p.name in out ? `${p.name} (again)` : p.name] = p.value;
  }
  return out;
}

function controlToYaml(c: ControlStep): Record<string, unknown> {
  const o: Record<string, unknown> = { kind: c.kind, domain: c.domain };
  if (c.kind === "guest-set-rtc") o.delta = c.delta;
  return o;
}

function replyToYaml(r: ControlReply): Record<string, unknown> {
  const o: Record<string, unknown> = { ok: r.ok };
  if (r.clock)
    o.clock = {
      setTimeOffsetCalls: [...r.clock.setTimeOffsetCalls],
      vmRtcTimeoffset: r.clock.vmRtcTimeoffset,
      dmLocaltime: r.clock.dmLocaltime,
      tz: r.clock.tz,
      hostUtcOffset: r.clock.hostUtcOffset,
    };
  if (r.detail !== undefined) o.detail = r.detail;
  return o;
}

/** The recording with every secret redacted. */
export function redactRecording(rec: Recording): Recording {
  return {
    ...rec,
    provenance: { ...rec.provenance, notes: rec.provenance.notes?.map(redact) },
    exchanges: rec.exchanges.map((x) =>
      x.channel === "xend"
        ? { ...x, request: redactRequest(x.request), response: redactResponse(x.response) }
        : { ...x, reply: redactControlReply(x.reply) },
    ),
  };
}

const HEADER_COMMENT = [
  "# xend-compat recording: one cell's HTTP exchanges with a real xend, in order.",
  "# Made by `xend-compat record`; do not edit by hand (re-record instead). Secrets are redacted.",
  "# request.form is a decoded view of the body for review only; replay matches the body by meaning.",
].join("\n");

/** The YAML text of a recording (redacted). */
export function serializeRecording(rec0: Recording): string {
  const rec = redactRecording(rec0);
  const p = rec.provenance;
  const prov: Record<string, unknown> = {
    xendVersion: p.xendVersion,
    tree: p.tree,
    commit: p.commit,
    tz: p.tz,
    backend: p.backend,
    harnessVersion: p.harnessVersion,
    recordedAt: p.recordedAt,
  };
  if (p.notes && p.notes.length) prov.notes = p.notes;
  const doc = {
    format: rec.format,
    cell: rec.cell,
    provenance: prov,
    exchanges: rec.exchanges.map((x) => {
      if (x.channel === "control") return { step: x.step, channel: "control", control: controlToYaml(x.control), reply: replyToYaml(x.reply) };
      const req: Record<string, unknown> = { method: x.request.method, path: x.request.path, headers: headerLines(x.request.headers) };
      if (x.request.body !== undefined) req.body = x.request.body;
      const form = formView(x.request);
      if (form) req.form = form;
      return {
        step: x.step,
        channel: "xend",
        request: req,
        response: { status: x.response.status, reason: x.response.reason, headers: headerLines(x.response.headers), body: x.response.body },
      };
    }),
  };
  return HEADER_COMMENT + "\n" + stringifyYaml(doc, { lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
}

/** Write `text` to `file` atomically (the shared harness/fsutil.ts writer); errors name the recording. */
export function writeFileAtomic(file: string, text: string): void {
  try {
    writeAtomicShared(file, text);
  } catch (e) {
    if (e instanceof HarnessError) throw e;
    throw new HarnessError("input.file", `cannot write recording ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Write the recording of its cell under `dir` (redacted, atomic); returns the file written. */
export function writeRecording(dir: string, rec: Recording): string {
  const file = recordingPath(dir, rec.cell);
  writeFileAtomic(file, serializeRecording(rec));
  return file;
}

// ---------------------------------------------------------------------------------------------
// Loading

class SchemaError extends Error {
  constructor(
    readonly at: (string | number)[],
    message: string,
  ) {
    super(message);
  }
}

function atText(at: (string | number)[]): string {
  let s = "";
  for (const k of at) s += typeof k === "number" ? `[${k}]` : s ? `.${k}` : k;
  return s || "(top level)";
}

type Obj = Record<string, unknown>;

function obj(v: unknown, at: (string | number)[]): Obj {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new SchemaError(at, `${atText(at)} must be a mapping`);
  return v as Obj;
}
/** The mapping at `o[k]`; a clear error when it is missing or not a mapping. */
function sub(o: Obj, k: string, at: (string | number)[]): Obj {
  const v = o[k];
  if (v === undefined || v === null) throw new SchemaError([...at, k], `missing ${atText([...at, k])}`);
  return obj(v, [...at, k]);
}
function str(o: Obj, k: string, at: (string | number)[], optional = false): string {
  const v = o[k];
  if (v === undefined || v === null) {
    if (optional) return undefined as unknown as string;
    throw new SchemaError([...at, k], `missing ${atText([...at, k])}`);
  }
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v !== "string") throw new SchemaError([...at, k], `${atText([...at, k])} must be a string`);
  return v;
}
function num(o: Obj, k: string, at: (string | number)[]): number {
  const v = o[k];
  if (v === undefined || v === null) throw new SchemaError([...at, k], `missing ${atText([...at, k])}`);
  if (typeof v !== "number" || !Number.isFinite(v)) throw new SchemaError([...at, k], `${atText([...at, k])} must be a number`);
  return v;
}
function arr(o: Obj, k: string, at: (string | number)[]): unknown[] {
  const v = o[k];
  if (v === undefined || v === null) throw new SchemaError([...at, k], `missing ${atText([...at, k])}`);
  if (!Array.isArray(v)) throw new SchemaError([...at, k], `${atText([...at, k])} must be a list`);
  return v;
}
function headers(o: Obj, k: string, at: (string | number)[]): [string, string][] {
  return arr(o, k, at).map((h, i) => {
    if (typeof h !== "string") throw new SchemaError([...at, k, i], `${atText([...at, k, i])} must be a 'Name: value' string`);
    const c = h.indexOf(":");
    if (c <= 0) throw new SchemaError([...at, k, i], `${atText([...at, k, i])} must be a 'Name: value' string, got '${h}'`);
    return [h.slice(0, c), h.slice(c + 1).replace(/^ /, "")];
  });
}

const METHODS = new Set(["GET", "POST", "DELETE", "PUT"]);
const BACKENDS = new Set(["recorded", "sandbox", "container", "live"]);

function toRecording(doc: unknown): Recording {
  const top = obj(doc, []);
  const format = num(top, "format", []);
  if (format !== RECORDING_FORMAT) throw new SchemaError(["format"], `unsupported recording format ${format} (this harness reads format ${RECORDING_FORMAT})`);
  const cell = str(top, "cell", []);
  const pAt = ["provenance"];
  const p = sub(top, "provenance", []);
  const backend = str(p, "backend", pAt);
  if (!BACKENDS.has(backend)) throw new SchemaError([...pAt, "backend"], `provenance.backend must be one of ${[...BACKENDS].join(", ")}, got '${backend}'`);
  let notes: string[] | undefined;
  if (p.notes !== undefined && p.notes !== null) {
    notes = arr(p, "notes", pAt).map((n, i) => {
      if (typeof n !== "string") throw new SchemaError([...pAt, "notes", i], `${atText([...pAt, "notes", i])} must be a string`);
      return n;
    });
  }
  const provenance: RecordingProvenance = {
    xendVersion: str(p, "xendVersion", pAt),
    tree: str(p, "tree", pAt),
    commit: str(p, "commit", pAt),
    tz: str(p, "tz", pAt),
    backend: backend as BackendKind,
    harnessVersion: str(p, "harnessVersion", pAt),
    recordedAt: str(p, "recordedAt", pAt),
    ...(notes ? { notes } : {}),
  };
  const exchanges = arr(top, "exchanges", []).map((x0, i): RecordedExchange => {
    const at = ["exchanges", i];
    const x = obj(x0, at);
    const step = str(x, "step", at);
    const channel = str(x, "channel", at);
    if (channel === "xend") {
      const rqAt = [...at, "request"];
      const rq = sub(x, "request", at);
      const method = str(rq, "method", rqAt);
      if (!METHODS.has(method)) throw new SchemaError([...rqAt, "method"], `${atText([...rqAt, "method"])} must be one of GET, POST, DELETE, PUT`);
      const request: HttpRequest = { method: method as HttpRequest["method"], path: str(rq, "path", rqAt), headers: headers(rq, "headers", rqAt) };
      const body = str(rq, "body", rqAt, true);
      if (body !== undefined) request.body = body;
      const rsAt = [...at, "response"];
      const rs = sub(x, "response", at);
      const response: HttpResponse = {
        status: num(rs, "status", rsAt),
        reason: str(rs, "reason", rsAt, true) ?? "",
        headers: headers(rs, "headers", rsAt),
        body: str(rs, "body", rsAt),
      };
      return { channel: "xend", step, request, response };
    }
    if (channel === "control") {
      const cAt = [...at, "control"];
      const c = sub(x, "control", at);
      const kind = str(c, "kind", cAt);
      const domain = str(c, "domain", cAt);
      let control: ControlStep;
      if (kind === "guest-set-rtc") control = { kind, domain, delta: num(c, "delta", cAt) };
      else if (kind === "guest-poweroff" || kind === "effective-clock") control = { kind, domain };
      else throw new SchemaError([...cAt, "kind"], `${atText([...cAt, "kind"])} must be guest-set-rtc, guest-poweroff or effective-clock, got '${kind}'`);
      const rAt = [...at, "reply"];
      const r = sub(x, "reply", at);
      if (typeof r.ok !== "boolean") throw new SchemaError([...rAt, "ok"], `${atText([...rAt, "ok"])} must be true or false`);
      const reply: ControlReply = { ok: r.ok };
      if (r.detail !== undefined && r.detail !== null) reply.detail = str(r, "detail", rAt);
      if (r.clock !== undefined && r.clock !== null) {
        const kAt = [...rAt, "clock"];
        const k = obj(r.clock, kAt);
        const calls = arr(k, "setTimeOffsetCalls", kAt).map((v, j) => {
          if (v === null || (typeof v === "number" && Number.isFinite(v))) return v as number | null;
          throw new SchemaError([...kAt, "setTimeOffsetCalls", j], `${atText([...kAt, "setTimeOffsetCalls", j])} must be a number or null`);
        });
        const vm = k.vmRtcTimeoffset;
        const dm = k.dmLocaltime;
        if (dm !== null && dm !== undefined && typeof dm !== "boolean")
          throw new SchemaError([...kAt, "dmLocaltime"], `${atText([...kAt, "dmLocaltime"])} must be true, false or null`);
        reply.clock = {
          setTimeOffsetCalls: calls,
          vmRtcTimeoffset: vm === null || vm === undefined ? null : String(vm),
          dmLocaltime: (dm ?? null) as boolean | null,
          tz: str(k, "tz", kAt),
          hostUtcOffset: num(k, "hostUtcOffset", kAt),
        };
      }
      return { channel: "control", step, control, reply };
    }
    throw new SchemaError([...at, "channel"], `${atText([...at, "channel"])} must be 'xend' or 'control', got '${channel}'`);
  });
  return { format, cell, provenance, exchanges };
}

/** Best effort: the line and column of a schema path in the YAML text (only computed on errors). */
function positionOf(text: string, at: (string | number)[]): { line: number; column: number } | undefined {
  try {
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc });
    for (let n = at.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(at.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) {
        const { line, col } = lc.linePos(range[0]);
        return { line, column: col };
      }
    }
  } catch {
    /* no position */
  }
  return undefined;
}

/**
 * What the recording's own `GET /xend/node/` answer says against its provenance, or null when they
 * agree (or the answer names no version). xend reports its version as xen_major, xen_minor and
 * xen_extra (`.2`, or a tag such as `.sandbox`); every xend from 3.1 to 4.1 answers
 * xend_config_format 4 (XendNode.xendinfo in each tree). A recording whose xend says it is another
 * version than the provenance claims would replay one xend's behaviour under another's name.
 */
export function nodeContradiction(rec: Recording): { message: string; at: (string | number)[] } | null {
  if (!/^\d+(\.\d+)+$/.test(rec.provenance.xendVersion)) return null;
  const wanted = rec.provenance.xendVersion.split(".");
  for (let i = 0; i < rec.exchanges.length; i++) {
    const x = rec.exchanges[i];
    if (x.channel !== "xend" || x.request.method !== "GET" || !/^\/xend\/node\/?$/.test(x.request.path) || x.response.status !== 200) continue;
    let node;
    try {
      node = readSxpr(x.response.body, { dialect: "libvirt", strict: false });
    } catch {
      continue; // not an answer that names anything; the replay reports what libvirt makes of it
    }
    const major = valueAt(node, "/node/xen_major");
    const minor = valueAt(node, "/node/xen_minor");
    const extra = valueAt(node, "/node/xen_extra") ?? "";
    const format = valueAt(node, "/node/xend_config_format");
    const at = ["exchanges", i, "response", "body"];
    if (major !== undefined && minor !== undefined) {
      const micro = /^\.(\d+)/.exec(extra)?.[1];
      const host = [major, minor, ...(micro !== undefined ? [micro] : [])];
      const same = wanted.every((w, k) => host[k] === undefined || (/^\d+$/.test(host[k]) && Number(host[k]) === Number(w)));
      if (!same)
        return {
          message: `the recording's own GET /xend/node/ answer says Xen ${major}.${minor}${extra} (xen_major ${major}, xen_minor ${minor}, xen_extra ${extra || "none"}), but its provenance says xendVersion ${rec.provenance.xendVersion}`,
          at,
        };
    }
    const [vMaj, vMin] = wanted.map(Number);
    const atLeast31 = vMaj > 3 || (vMaj === 3 && vMin >= 1);
    if (format !== undefined && atLeast31 && format.trim() !== "4")
      return {
        message: `the recording's own GET /xend/node/ answer says xend_config_format ${format}, but every xend from 3.1 to 4.1 answers 4 and its provenance says xendVersion ${rec.provenance.xendVersion}`,
        at,
      };
  }
  return null;
}

/**
 * Parse the text of a recording with the YAML library (`yaml`, the one the matrix loader uses);
 * errors are HarnessError input.recording with file:line:col. Synchronous: the pack compiler uses it.
 */
export function parseRecordingSync(text: string, file: string): Recording {
  // The YAML library composes recursively: refuse what nests deeper than any recording before it reads.
  const deep = tooDeep(text);
  if (deep) throw new HarnessError("input.recording", `recording is not valid YAML: nested deeper than ${MAX_RECORDING_NESTING} levels`, { pos: { file, ...deep } });
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true, maxAliasCount: 0 });
  } catch (e) {
    const pos: SourcePos = { file };
    let reason = e instanceof Error ? e.message : String(e);
    if (e instanceof YAMLParseError) {
      const lp = e.linePos?.[0];
      if (lp) {
        pos.line = lp.line;
        pos.column = lp.col;
      }
      reason = reason.replace(/ at line \d+, column \d+:?[\s\S]*$/, "");
    }
    if (/Alias resolution is disabled/.test(reason)) {
      // Recordings never hold aliases (the writer makes none): refused, at the first one.
      const at = firstAlias(text);
      throw new HarnessError("input.recording", "recording is not valid YAML: a recording holds no aliases (*name)", { pos: { file, ...(at ?? {}) }, cause: e });
    }
    throw new HarnessError("input.recording", `recording is not valid YAML: ${reason}`, { pos, cause: e });
  }

  try {
    const rec = toRecording(doc);
    const contradiction = nodeContradiction(rec);
    if (contradiction) throw new SchemaError(contradiction.at, `${contradiction.message}: refusing to replay it (re-record the cell, or fix the provenance)`);
    return rec;
  } catch (e) {
    if (!(e instanceof SchemaError)) throw e;
    const p = positionOf(text, e.at);
    throw new HarnessError("input.recording", `bad recording: ${e.message}`, { pos: { file, ...(p ?? {}) } });
  }
}

/** Deeper than any recording nests (they nest about 6 levels). */
export const MAX_RECORDING_NESTING = 100;

/** Where the text first nests deeper than MAX_RECORDING_NESTING (by indentation or flow brackets), or undefined. */
function tooDeep(text: string): { line: number; column: number } | undefined {
  let line = 1;
  let start = 0;
  let flow = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text.charCodeAt(i);
    if (i === text.length || c === 10) {
      line++;
      start = i + 1;
      continue;
    }
    if (i === start) {
      let j = i;
      while (text.charCodeAt(j) === 32) j++;
      if (j - i > 2 * MAX_RECORDING_NESTING) return { line, column: j - i + 1 };
    }
    if (c === 34 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34 && text.charCodeAt(i) !== 10; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (c === 91 || c === 123) {
      if (++flow > MAX_RECORDING_NESTING) return { line, column: i - start + 1 };
    } else if ((c === 93 || c === 125) && flow > 0) flow--;
  }
  return undefined;
}

/** The line and column of the first alias (`*name`) in a YAML text, or undefined. */
function firstAlias(text: string): { line: number; column: number } | undefined {
  const m = /(^|[\s[{,:-])\*[^\s,\]}]+/m.exec(text);
  if (!m) return undefined;
  const at = m.index + m[1].length;
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  return { line, column: at - before.lastIndexOf("\n") };
}

/** parseRecordingSync, for callers that await. */
export async function parseRecording(text: string, file: string): Promise<Recording> {
  return parseRecordingSync(text, file);
}

/** Read and parse a recording file. A missing file throws HarnessError input.file with code ENOENT kept as cause. */
export async function loadRecording(file: string): Promise<Recording> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new HarnessError("input.file", `cannot read recording ${file}: ${(e as Error).message}`, { cause: e, pos: { file } });
  }
  return parseRecording(text, file);
}
