/**
 * The recorded backend: replays one recording per cell. Each request a cell sends must match the
 * recording's next exchange by method, path, the headers xend reads the body by (the same
 * Content-Type media type; a Content-Length equal to the body's UTF-8 byte length) and the meaning of
 * its body (form fields decoded as xend decodes them, `config` compared as an SXPR tree); control
 * steps match by kind, domain and
 * delta. Anything else is HarnessError `backend.unmatched`, naming the recording file and the
 * `xend-compat record` command that makes it.
 *
 * Parsed recordings are cached per file (invalidated when the file's size or mtime changes), so
 * replaying a matrix parses each file once.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HarnessError, isHarnessError } from "../errors.js";
import type { Backend, BackendSession, ControlReply, ControlStep, HttpRequest, HttpResponse, Provenance } from "./types.js";
import { xendDir } from "../safepath.js";
import { kindOf } from "../fsutil.js";
import { loadRecording, recordCommand, recordingPath, splitCellId, safeSegment, type RecordedExchange, type Recording } from "./recording.js";
import { compareForms } from "./form.js";
import { redactBody } from "./redact.js";
import { replyOverCap } from "./transport.js";
import type { Sx } from "../sxp/index.js";

export interface RecordedBackendOptions {
  /** The recordings directory (holds `<xend>/<libvirt>/<scenario>.yaml`). */
  dir: string;
  xendVersion: string;
  /** How many cells may replay at once (default 64: replay is CPU-only). */
  concurrency?: number;
  /** Complain at end() when the cell made fewer requests than recorded (default true). */
  requireAllExchanges?: boolean;
  /**
   * What a libvirt version sends to xend in a scenario (undefined when it cannot tell): two versions
   * with the same key for a scenario send the same requests, so a cell with no recording of its own
   * replays the recording of the same xend and scenario under another libvirt version with the same
   * key. The session's notes say which recording was used. (Called with the scenario id; a key of
   * the libvirt version alone, e.g. its profile id, works too.)
   */
  profileOf?: (libvirt: string, scenario: string) => string | undefined | Promise<string | undefined>;
}

interface CachedRecording {
  size: number;
  mtimeMs: number;
  rec: Recording;
  /** Per exchange index: parsed config trees of the recorded form body (filled lazily). */
  trees: Map<number, Map<string, Sx[] | null>>;
}

const cache = new Map<string, CachedRecording>();

/** Forget every cached recording (tests; after re-recording in the same process). */
export function clearRecordingCache(): void {
  cache.clear();
}

/** Where `key:` is in a recording file (its value's line and column), for messages about that key. */
function keyPos(file: string, key: string): { file: string; line?: number; column?: number } {
  try {
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const re = new RegExp(`^(\\s*${key}:\\s*)\\S`);
    for (let i = 0; i < lines.length; i++) {
      const m = re.exec(lines[i]);
      if (m) return { file: displayPath(file), line: i + 1, column: m[1].length + 1 };
    }
  } catch {
    /* the file name alone */
  }
  return { file: displayPath(file) };
}

function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

async function loadCached(file: string): Promise<CachedRecording | undefined> {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new HarnessError("input.file", `cannot read recording ${displayPath(file)}: ${(e as Error).message}`, { cause: e });
  }
  // A directory or a FIFO where a recording belongs: one line, exit 2 (reading a FIFO would hang).
  if (!st.isFile()) throw new HarnessError("input.file", `cannot read recording ${displayPath(file)}: it is ${kindOf(st)}, not a regular file`);
  const hit = cache.get(file);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit;
  const rec = await loadRecording(file);
  const entry: CachedRecording = { size: st.size, mtimeMs: st.mtimeMs, rec, trees: new Map() };
  cache.set(file, entry);
  return entry;
}

function describeRequest(r: HttpRequest): string {
  return `${r.method} ${r.path}`;
}

function describeControl(c: ControlStep): string {
  return c.kind === "guest-set-rtc" ? `control ${c.kind} ${c.domain} delta ${c.delta}` : `control ${c.kind} ${c.domain}`;
}

function describeExchange(x: RecordedExchange): string {
  return x.channel === "xend" ? describeRequest(x.request) : describeControl(x.control);
}

function header(r: HttpRequest, name: string): string | undefined {
  const n = name.toLowerCase();
  return r.headers.find(([k]) => k.toLowerCase() === n)?.[1].trim();
}

/** The media type of a Content-Type value (parameters dropped, lower case), or undefined. */
function mediaType(v: string | undefined): string | undefined {
  return v === undefined ? undefined : v.split(";")[0].trim().toLowerCase();
}

/**
 * Why the sent request's headers would make xend read it differently from the recorded one, or null.
 * xend parses a body as a form only when its Content-Type is application/x-www-form-urlencoded, and
 * reads exactly Content-Length bytes of it: so the Content-Type must be the recorded one, and the
 * Content-Length the sent body's UTF-8 length.
 */
function headerMismatch(recorded: HttpRequest, sent: HttpRequest): string | null {
  const rt = header(recorded, "content-type");
  const st = header(sent, "content-type");
  if (mediaType(rt) !== mediaType(st))
    return `Content-Type ${st === undefined ? "missing" : `'${st}'`}, recorded ${rt === undefined ? "none" : `'${rt}'`}`;
  const len = header(sent, "content-length");
  const bytes = sent.body === undefined ? 0 : Buffer.byteLength(sent.body, "utf8");
  if (len === undefined) {
    if (bytes > 0) return `no Content-Length for a body of ${bytes} bytes (xend would read no body)`;
  } else if (!/^\d+$/.test(len) || Number(len) !== bytes) {
    return `Content-Length '${len}' but the body is ${bytes} bytes in UTF-8 (xend reads exactly Content-Length bytes)`;
  }
  return null;
}

class RecordedSession implements BackendSession {
  private next = 0;
  private failed = false;
  constructor(
    private readonly cellId: string,
    private readonly file: string,
    private readonly entry: CachedRecording,
    private readonly requireAll: boolean,
    private readonly sessionNotes: string[] = [],
  ) {}

  provenance(): Provenance {
    return this.entry.rec.provenance;
  }

  notes(): string[] {
    return [...this.sessionNotes];
  }

  private unmatched(what: string): HarnessError {
    this.failed = true;
    return new HarnessError(
      "backend.unmatched",
      `${this.cellId}: ${what} (recording ${displayPath(this.file)}). Re-record this cell with: ${recordCommand(this.cellId)}`,
    );
  }

  private take(sent: string, stepLabel: string): RecordedExchange {
    const ex = this.entry.rec.exchanges;
    if (this.failed) throw this.unmatched(`${sent} at step '${stepLabel}' after an earlier mismatch`);
    if (this.next >= ex.length)
      throw this.unmatched(`${sent} at step '${stepLabel}' comes after the last of the ${ex.length} recorded exchanges`);
    return ex[this.next];
  }

  async send(req: HttpRequest, stepLabel: string): Promise<HttpResponse> {
    const x = this.take(describeRequest(req), stepLabel);
    const n = this.next + 1;
    const total = this.entry.rec.exchanges.length;
    const where = `exchange ${n} of ${total}, recorded at step '${x.step}'`;
    if (x.channel !== "xend")
      throw this.unmatched(`sent ${describeRequest(req)} at step '${stepLabel}' but the recording expects ${describeExchange(x)} (${where})`);
    const r = x.request;
    if (r.method !== req.method || r.path !== req.path)
      throw this.unmatched(`sent ${describeRequest(req)} at step '${stepLabel}' but the recording expects ${describeRequest(r)} (${where})`);
    const headerWhy = headerMismatch(r, req);
    if (headerWhy) throw this.unmatched(`the headers of ${describeRequest(req)} at step '${stepLabel}' do not match the recording (${where}): ${headerWhy}`);
    const recBody = r.body ?? "";
    const sentBody = req.body ?? "";
    if (recBody !== sentBody) {
      const sentRedacted = redactBody(sentBody, req.headers) ?? "";
      let trees = this.entry.trees.get(this.next);
      if (!trees) {
        trees = new Map();
        this.entry.trees.set(this.next, trees);
      }
      const m = compareForms(recBody, sentRedacted, trees);
      if (!m.ok)
        throw this.unmatched(`the body of ${describeRequest(req)} at step '${stepLabel}' does not match the recording (${where}): ${m.why}`);
    }
    this.next++;
    // libvirt reads at most 256 KiB of a reply; over the wire a longer one fails, so it fails here too.
    const over = replyOverCap(x.response);
    if (over) throw new HarnessError(over.code, `${over.message} (recorded reply, exchange ${n} of ${total}, recording ${displayPath(this.file)})`);
    return x.response;
  }

  async control(step: ControlStep, stepLabel: string): Promise<ControlReply> {
    const x = this.take(describeControl(step), stepLabel);
    const n = this.next + 1;
    const total = this.entry.rec.exchanges.length;
    const where = `exchange ${n} of ${total}, recorded at step '${x.step}'`;
    if (x.channel !== "control")
      throw this.unmatched(`asked ${describeControl(step)} at step '${stepLabel}' but the recording expects ${describeExchange(x)} (${where})`);
    const c = x.control;
    const same =
      c.kind === step.kind &&
      c.domain === step.domain &&
      (c.kind !== "guest-set-rtc" || (step.kind === "guest-set-rtc" && c.delta === step.delta));
    if (!same)
      throw this.unmatched(`asked ${describeControl(step)} at step '${stepLabel}' but the recording expects ${describeControl(c)} (${where})`);
    this.next++;
    return x.reply;
  }

  async end(): Promise<void> {
    const total = this.entry.rec.exchanges.length;
    if (this.requireAll && !this.failed && this.next < total) {
      const x = this.entry.rec.exchanges[this.next];
      throw this.unmatched(
        `the cell ended after ${this.next} of ${total} recorded exchanges; next recorded: ${describeExchange(x)} at step '${x.step}' (the recording is obsolete)`,
      );
    }
  }
}

export class RecordedBackend implements Backend {
  readonly kind = "recorded" as const;
  readonly xendVersion: string;
  readonly concurrency: number;
  readonly guestControl = true;
  readonly dir: string;
  private readonly requireAll: boolean;
  private readonly profileOf?: (libvirt: string, scenario: string) => string | undefined | Promise<string | undefined>;
  /** Per xend directory: the libvirt versions that have a recordings folder (read once). */
  private readonly libvirtDirs = new Map<string, string[]>();

  constructor(opts: RecordedBackendOptions) {
    this.dir = path.resolve(opts.dir);
    this.xendVersion = opts.xendVersion;
    this.concurrency = opts.concurrency ?? 64;
    this.requireAll = opts.requireAllExchanges ?? true;
    if (opts.profileOf) this.profileOf = opts.profileOf;
  }

  private libvirtVersions(xend: string): string[] {
    let vs = this.libvirtDirs.get(xend);
    if (!vs) {
      vs = [];
      try {
        for (const d of fs.readdirSync(xendDir(this.dir, xend, "recordings", safeSegment), { withFileTypes: true })) {
          if (!d.isDirectory()) continue;
          try {
            vs.push(decodeURIComponent(d.name));
          } catch {
            /* not a folder recordingPath would write */
          }
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
      vs.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
      this.libvirtDirs.set(xend, vs);
    }
    return vs;
  }

  /**
   * A recording of the same xend and scenario under another libvirt version that sends the same
   * (same key), for a cell that has none of its own; the first such version in version order.
   */
  private async substitute(cellId: string): Promise<{ cellId: string; libvirt: string } | undefined> {
    if (!this.profileOf) return undefined;
    const { xend, libvirt, scenario } = splitCellId(cellId);
    const key = await this.profileOf(libvirt, scenario);
    if (key === undefined) return undefined;
    for (const other of this.libvirtVersions(xend)) {
      if (other === libvirt) continue;
      const id = `${xend}/${other}/${scenario}`;
      if (!fs.existsSync(recordingPath(this.dir, id))) continue;
      if ((await this.profileOf(other, scenario)) === key) return { cellId: id, libvirt: other };
    }
    return undefined;
  }

  provenance(): Provenance {
    return {
      xendVersion: this.xendVersion,
      tree: `recordings:${displayPath(this.dir)}`,
      commit: "per recording",
      tz: "per recording",
      notes: ["replayed; each recording names the xend tree, commit and time zone it came from"],
    };
  }

  /** The recording file of a cell. */
  fileFor(cellId: string): string {
    return recordingPath(this.dir, cellId);
  }

  async open(cellId: string): Promise<BackendSession> {
    const own = this.fileFor(cellId);
    let file = own;
    let recordedCell = cellId;
    const notes: string[] = [];
    const load = async (f: string): Promise<CachedRecording | undefined> => {
      try {
        return await loadCached(f);
      } catch (e) {
        if (isHarnessError(e)) throw e;
        throw new HarnessError("input.recording", `cannot load recording ${displayPath(f)}: ${String(e)}`, { cause: e });
      }
    };
    let entry = await load(file);
    if (!entry) {
      const sub = await this.substitute(cellId);
      if (sub) {
        file = this.fileFor(sub.cellId);
        entry = await load(file);
        recordedCell = sub.cellId;
        notes.push(`replayed from the ${sub.libvirt} recording: libvirt ${sub.libvirt} sends the same requests in this scenario (${displayPath(file)}; this cell has no recording of its own)`);
      }
    }
    if (!entry)
      throw new HarnessError(
        "backend.unmatched",
        `${cellId}: no recording at ${displayPath(own)}. Record this cell with: ${recordCommand(cellId)}`,
      );
    const rec = entry.rec;
    if (rec.provenance.xendVersion !== this.xendVersion)
      throw new HarnessError(
        "input.recording",
        `recording is for xend ${rec.provenance.xendVersion}, not ${this.xendVersion} (replay refuses a recording of another xend version)`,
        { pos: keyPos(file, "xendVersion") },
      );
    if (rec.cell !== recordedCell)
      throw new HarnessError("input.recording", `recording is for cell '${rec.cell}', not '${recordedCell}' (was the file moved?)`, {
        pos: keyPos(file, "cell"),
      });
    return new RecordedSession(cellId, file, entry, this.requireAll, notes);
  }

  async close(): Promise<void> {}
}
