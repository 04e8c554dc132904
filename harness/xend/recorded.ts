/**
 * The recorded backend: replays the recordings of a directory, compiled into one pack (./pack.ts).
 * A recording answers every cell that sends the same conversation: the same requests up to the
 * domain's name and uuid, which the pack holds as placeholders and the session puts back as the
 * cell's own. A cell is answered by its own recording when it has one; otherwise by the recording of
 * the same xend version whose requests are the cell's (the first, in cell order, of those with the same
 * scenario first). Each request must match the next exchange by method, path, the headers xend reads
 * the body by (the same Content-Type media type; a Content-Length equal to the body's UTF-8 byte
 * length) and its body (bytes, else meaning: form fields decoded as xend decodes them, `config`
 * compared as an SXPR tree); control steps match by kind, domain and delta. Anything else is
 * HarnessError `backend.unmatched`, naming the recording and the `xend-compat record` command.
 */
import * as path from "node:path";
import { HarnessError } from "../errors.js";
import { checkCellParts } from "../safepath.js";
import type { Backend, BackendSession, ControlReply, ControlStep, DomainInstance, HttpRequest, HttpResponse, Provenance } from "./types.js";
import { recordCommand, recordingPath, splitCellId } from "./recording.js";
import { compareForms } from "./form.js";
import { redactBody } from "./redact.js";
import { replyOverCap } from "./transport.js";
import { controlKey, exchangeKey, InstanceText, loadPack, packIsFresh, packCacheDir, packErrorToHarness, requestKey, type Conversation, type Pack, type PackedExchange, type PackError } from "./pack.js";
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
   * What a libvirt version sends to xend in a scenario, as a key (undefined when it cannot tell; the
   * runner computes it from the profiles: conversationKeys in harness/run/execute.ts). When given, a
   * cell without a recording of its own, in a scenario this xend has recordings of, is answered by the
   * first recording of that scenario (version order) whose libvirt has the same key, and by none when
   * no libvirt does (open() refuses, naming the record command). Without it, or for a scenario with
   * no recordings here, the requests alone decide (conversation matching).
   */
  profileOf?: (libvirt: string, scenario: string) => string | undefined | Promise<string | undefined>;
  /** Where compiled packs are cached; null compiles in memory; default packCacheDir() (XDG cache, none under CI). */
  packCache?: string | null;
  /** The pack shared with the run's other recorded backends (sharedPack), instead of checking the directory again. */
  pack?: SharedPack;
}

/** Conversations of one xend version, as a tree of their match keys (first request at the root). */
interface TrieNode {
  /** Conversations that pass through this node, in preference order. */
  convs: number[];
  /** Conversations whose last exchange is the step into this node. */
  ends: number[];
  next: Map<string, TrieNode>;
}

interface PackIndex {
  dir: string;
  pack: Pack;
  byCell: Map<string, number>;
  errors: Map<string, PackError>;
  /** Per xend version: the conversation tree (built on first use). */
  tries: Map<string, TrieNode>;
  /** Per (conversation, exchange): parsed config trees of the recorded form body (filled lazily by compareForms). */
  trees: Map<string, Map<string, Sx[] | null>>;
}

/** Loaded packs per recordings directory (each backend checks its sources once). */
const packs = new Map<string, PackIndex>();

/** Per domain instance: its normaliser (the cells of every xend version share an instance; a pure function of it). */
const instanceTexts = new Map<string, InstanceText>();

/** Forget every loaded pack (tests; after re-recording in the same process). */
export function clearRecordingCache(): void {
  packs.clear();
  instanceTexts.clear();
}

function packOf(dir: string, cacheDir: string | null | undefined, xend: string): PackIndex {
  const key = `${dir}\n${xend}`;
  const had0 = packs.get(key);
  if (had0 && packIsFresh(dir, had0.pack, xend)) return had0;
  const loaded = loadPack(dir, cacheDir === undefined ? packCacheDir() : cacheDir, xend);
  const had = packs.get(key);
  if (had && had.pack.contentHash === loaded.pack.contentHash) return had;
  const byCell = new Map<string, number>();
  loaded.pack.conversations.forEach((c, i) => byCell.set(c.cell, i));
  const idx: PackIndex = { dir, pack: loaded.pack, byCell, errors: new Map(loaded.pack.errors.map((e) => [e.cell, e])), tries: new Map(), trees: new Map() };
  packs.set(key, idx);
  return idx;
}

/** The loaded packs of a recordings directory, shared by the backends of one run (each xend version's sources are checked once). */
export type SharedPack = (xend: string) => PackIndex;

/** One check per xend version of a recordings directory's packs for all the backends of a run: the first open loads it. */
export function sharedPack(dir: string, packCache?: string | null): SharedPack {
  const abs = path.resolve(dir);
  const loaded = new Map<string, PackIndex>();
  return (xend) => {
    let idx = loaded.get(xend);
    if (!idx) loaded.set(xend, (idx = packOf(abs, packCache, xend)));
    return idx;
  };
}

function trieOf(idx: PackIndex, xend: string): TrieNode {
  let root = idx.tries.get(xend);
  if (root) return root;
  root = { convs: [], ends: [], next: new Map() };
  // The pack holds its conversations in cell order (versions compared as numbers): the preference order.
  const convs = idx.pack.conversations;
  for (let i = 0; i < convs.length; i++) {
    const c = convs[i];
    if (c.xend !== xend) continue;
    let n = root;
    n.convs.push(i);
    for (const x of c.exchanges) {
      const key = exchangeKey(x);
      let k = n.next.get(key);
      if (!k) {
        k = { convs: [], ends: [], next: new Map() };
        n.next.set(key, k);
      }
      n = k;
      n.convs.push(i);
    }
    n.ends.push(i);
  }
  idx.tries.set(xend, root);
  return root;
}

function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

function describeRequest(r: HttpRequest): string {
  return `${r.method} ${r.path}`;
}

function describeControl(c: ControlStep): string {
  return c.kind === "guest-set-rtc" ? `control ${c.kind} ${c.domain} delta ${c.delta}` : `control ${c.kind} ${c.domain}`;
}

function describeExchange(x: PackedExchange): string {
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
  /** How many exchanges were answered; where the cell is in the conversation tree. */
  private depth = 0;
  private node: TrieNode;
  /** The conversation answering now (undefined before the first request of a cell without its own). */
  private cur: number | undefined;
  /** The conversations that answered, in order. */
  private readonly used: number[] = [];
  private failed = false;
  private readonly name: string;
  private readonly uuid: string;
  private readonly text: InstanceText;

  constructor(
    private readonly idx: PackIndex,
    root: TrieNode,
    private readonly cellId: string,
    private readonly own: number | undefined,
    private readonly guess: number | undefined,
    /** The recording a libvirt with the same key made (profileOf), when that chose the guess. */
    private readonly keyedGuess: number | undefined,
    instance: DomainInstance | undefined,
    private readonly requireAll: boolean,
  ) {
    this.node = root;
    this.cur = own ?? guess;
    const c = this.cur === undefined ? undefined : idx.pack.conversations[this.cur];
    this.name = instance?.name ?? c?.name ?? "";
    this.uuid = instance?.uuid ?? c?.uuid ?? "";
    const tk = `${this.name}\n${this.uuid}`;
    let text = instanceTexts.get(tk);
    if (!text) {
      if (instanceTexts.size >= 4096) instanceTexts.clear();
      instanceTexts.set(tk, (text = new InstanceText(this.name, this.uuid)));
    }
    this.text = text;
  }

  private conv(i: number): Conversation {
    return this.idx.pack.conversations[i];
  }

  private file(i: number | undefined): string {
    return i === undefined ? recordingPath(this.idx.dir, this.cellId) : path.join(this.idx.dir, this.conv(i).file);
  }

  provenance(): Provenance {
    const i = this.cur ?? this.node.convs[0];
    return i === undefined ? { xendVersion: "", tree: "none", commit: "none", tz: "none" } : this.idx.pack.provenances[this.conv(i).provenance];
  }

  notes(): string[] {
    // A failed replay says which recording was closest in its error.
    if (this.failed) return [];
    const used = [...new Set(this.used)].filter((i) => i !== this.own);
    const k = this.keyedGuess;
    if (k !== undefined && used.every((i) => i === k)) {
      const c = this.conv(k);
      const l = splitCellId(c.cell).libvirt;
      return [`replayed from the ${l} recording: libvirt ${l} sends the same requests in this scenario (${displayPath(this.file(k))}; this cell has no recording of its own)`];
    }
    const out = used.map((i) => {
      const c = this.conv(i);
      return `replayed from the recording of ${c.cell}: the same requests up to the domain's name and uuid (${displayPath(this.file(i))}; ${this.own === undefined ? "this cell has no recording of its own" : "its own recording differs"})`;
    });
    if (new Set(this.used).size > 1 && out.length) out.push(`answers came from ${new Set(this.used).size} recordings that share the cell's requests up to where they differ`);
    return out;
  }

  private unmatched(what: string): HarnessError {
    this.failed = true;
    if (this.own === undefined)
      return new HarnessError(
        "backend.unmatched",
        `${this.cellId}: no recording at ${displayPath(this.file(undefined))}, and no recording of xend ${this.conv(this.cur ?? this.node.convs[0] ?? 0)?.xend ?? "?"} sends the same requests: ${what}${this.cur !== undefined ? ` (closest: ${displayPath(this.file(this.cur))})` : ""}. Record this cell with: ${recordCommand(this.cellId)}`,
      );
    return new HarnessError(
      "backend.unmatched",
      `${this.cellId}: ${what} (recording ${displayPath(this.file(this.cur))}). Re-record this cell with: ${recordCommand(this.cellId)}`,
    );
  }

  /** What the answering conversation expects next, for messages. */
  private expected(): { x: PackedExchange | undefined; total: number } {
    let i = this.cur ?? this.node.convs[0];
    // The answering recording ends here: another that shares the way so far and goes on, if any.
    if (i !== undefined && this.conv(i).exchanges.length <= this.depth) i = this.node.convs.find((c) => this.conv(c).exchanges.length > this.depth) ?? i;
    const ex = i === undefined ? [] : this.conv(i).exchanges;
    return { x: ex[this.depth], total: ex.length };
  }

  /**
   * Step into the child of the current node for `key` (or `alt`, a child found by meaning), keeping
   * the answering conversation when it goes on, else taking the first that does.
   */
  private advance(child: TrieNode): PackedExchange {
    if (this.cur === undefined || !child.convs.includes(this.cur)) this.cur = child.convs[0];
    const x = this.conv(this.cur).exchanges[this.depth];
    if (this.used[this.used.length - 1] !== this.cur) this.used.push(this.cur);
    this.node = child;
    this.depth++;
    return x;
  }

  private where(x: PackedExchange, total: number): string {
    return `exchange ${this.depth + 1} of ${total}, recorded at step '${x.step}'`;
  }

  async send(req: HttpRequest, stepLabel: string): Promise<HttpResponse> {
    const sent = describeRequest(req);
    if (this.failed) throw this.unmatched(`${sent} at step '${stepLabel}' after an earlier mismatch`);
    const sentBody = req.body === undefined ? undefined : this.text.normalise(req.body);
    const sentPath = this.text.normalise(req.path);
    const { x: exp, total } = this.expected();
    // The headers xend reads the body by, first (as xend would: before it reads the body).
    if (exp?.channel === "xend" && exp.request.method === req.method && exp.request.path === sentPath) {
      const headerWhy = headerMismatch(exp.request, req);
      if (headerWhy) throw this.unmatched(`the headers of ${sent} at step '${stepLabel}' do not match the recording (${this.where(exp, total)}): ${headerWhy}`);
    }
    let child = this.node.next.get(requestKey(req.method, sentPath, sentBody));
    if (!child) {
      if (!exp) throw this.unmatched(`${sent} at step '${stepLabel}' comes after the last of the ${total} recorded exchanges`);
      // Not byte for byte: a recorded request of the same method and path whose body means the same
      // (form fields decoded as xend decodes them, the config compared as an SXPR tree).
      const sentRedacted = redactBody(req.body ?? "", req.headers) ?? "";
      let why: string | undefined;
      const order = [...this.node.next.values()].sort((a, b) => (a.convs.includes(this.cur ?? -1) ? -1 : b.convs.includes(this.cur ?? -1) ? 1 : 0));
      for (const n of order) {
        const i = n.convs.includes(this.cur ?? -1) ? this.cur! : n.convs[0];
        const x = this.conv(i).exchanges[this.depth];
        if (x.channel !== "xend" || x.request.method !== req.method || x.request.path !== sentPath) continue;
        const treesKey = `${i}/${this.depth}/${this.name}/${this.uuid}`;
        let trees = this.idx.trees.get(treesKey);
        if (!trees) this.idx.trees.set(treesKey, (trees = new Map()));
        const m = compareForms(this.text.denormalise(x.request.body ?? ""), sentRedacted, trees);
        if (m.ok) {
          child = n;
          break;
        }
        if (i === (this.cur ?? this.node.convs[0])) why = m.why;
      }
      if (!child) {
        if (exp.channel !== "xend") throw this.unmatched(`sent ${sent} at step '${stepLabel}' but the recording expects ${describeExchange(exp)} (${this.where(exp, total)})`);
        const r = exp.request;
        if (r.method !== req.method || r.path !== sentPath)
          throw this.unmatched(`sent ${sent} at step '${stepLabel}' but the recording expects ${describeRequest({ ...r, path: this.text.denormalise(r.path) })} (${this.where(exp, total)})`);
        throw this.unmatched(`the body of ${sent} at step '${stepLabel}' does not match the recording (${this.where(exp, total)}): ${why ?? "no recorded body means the same"}`);
      }
    }
    const next = this.conv(this.cur !== undefined && child.convs.includes(this.cur) ? this.cur : child.convs[0]);
    const peek = next.exchanges[this.depth];
    if (peek.channel !== "xend") throw new Error("unreachable: a request key led to a control exchange");
    const headerWhy = headerMismatch(peek.request, req);
    if (headerWhy) throw this.unmatched(`the headers of ${sent} at step '${stepLabel}' do not match the recording (${this.where(peek, next.exchanges.length)}): ${headerWhy}`);
    const where = this.where(peek, next.exchanges.length);
    const x = this.advance(child);
    if (x.channel !== "xend") throw new Error("unreachable: a request key led to a control exchange");
    // libvirt reads at most 256 KiB of a reply; over the wire a longer one fails, so it fails here too.
    const over = replyOverCap(x.response);
    if (over) throw new HarnessError(over.code, `${over.message} (recorded reply, ${where}, recording ${displayPath(this.file(this.cur))})`);
    return denormaliseResponse(x.response, this.text);
  }

  async control(step: ControlStep, stepLabel: string): Promise<ControlReply> {
    const asked = describeControl(step);
    if (this.failed) throw this.unmatched(`${asked} at step '${stepLabel}' after an earlier mismatch`);
    const child = this.node.next.get(controlKey({ ...step, domain: this.text.normalise(step.domain) }));
    if (!child) {
      const { x, total } = this.expected();
      if (!x) throw this.unmatched(`${asked} at step '${stepLabel}' comes after the last of the ${total} recorded exchanges`);
      if (x.channel !== "control") throw this.unmatched(`asked ${asked} at step '${stepLabel}' but the recording expects ${describeExchange(x)} (${this.where(x, total)})`);
      throw this.unmatched(`asked ${asked} at step '${stepLabel}' but the recording expects ${describeControl({ ...x.control, domain: this.text.denormalise(x.control.domain) })} (${this.where(x, total)})`);
    }
    const x = this.advance(child);
    if (x.channel !== "control") throw new Error("unreachable: a control key led to an HTTP exchange");
    const reply: ControlReply = { ...x.reply };
    if (reply.detail !== undefined) reply.detail = this.text.denormalise(reply.detail);
    return reply;
  }

  async end(): Promise<void> {
    if (!this.requireAll || this.failed) return;
    if (this.cur !== undefined && this.node.ends.includes(this.cur)) return;
    if (this.node.ends.length) {
      this.cur = this.node.ends[0];
      if (this.used[this.used.length - 1] !== this.cur) this.used.push(this.cur);
      return;
    }
    const { x, total } = this.expected();
    if (x)
      throw this.unmatched(
        `the cell ended after ${this.depth} of ${total} recorded exchanges; next recorded: ${describeExchange(x)} at step '${x.step}' (the recording is obsolete)`,
      );
  }
}

function denormaliseResponse(r: HttpResponse, t: InstanceText): HttpResponse {
  return {
    status: r.status,
    reason: t.denormalise(r.reason),
    headers: r.headers.map(([k, v]) => [k, t.denormalise(v)]),
    body: t.denormalise(r.body),
  };
}

export class RecordedBackend implements Backend {
  readonly kind = "recorded" as const;
  readonly xendVersion: string;
  readonly concurrency: number;
  readonly guestControl = true;
  readonly dir: string;
  private readonly requireAll: boolean;
  private readonly profileOf?: (libvirt: string, scenario: string) => string | undefined | Promise<string | undefined>;
  private readonly packCache: string | null | undefined;
  private readonly shared: SharedPack | undefined;
  private idx: PackIndex | undefined;

  constructor(opts: RecordedBackendOptions) {
    this.dir = path.resolve(opts.dir);
    this.xendVersion = opts.xendVersion;
    this.concurrency = opts.concurrency ?? 64;
    this.requireAll = opts.requireAllExchanges ?? true;
    if (opts.profileOf) this.profileOf = opts.profileOf;
    this.packCache = opts.packCache;
    this.shared = opts.pack;
  }

  private index(): PackIndex {
    return (this.idx ??= this.shared ? this.shared(this.xendVersion) : packOf(this.dir, this.packCache, this.xendVersion));
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

  /**
   * A first guess for a cell without its own recording (so that one recording answers all of it when
   * it can): one recorded with the same domain name, else of the same scenario and profile, else of
   * the same scenario, in version order. The requests decide in the end.
   */
  private guess(idx: PackIndex, root: TrieNode, cellId: string, instance: DomainInstance | undefined): number | undefined {
    if (instance) for (const i of root.convs) if (idx.pack.conversations[i].name === instance.name) return i;
    const { scenario } = splitCellId(cellId);
    for (const i of root.convs) if (splitCellId(idx.pack.conversations[i].cell).scenario === scenario) return i;
    return undefined;
  }

  /**
   * With profileOf: the first recording of the cell's scenario (version order) whose libvirt sends the
   * same (same key), "none" when the scenario has recordings here but no libvirt with the cell's key,
   * undefined when the key cannot decide (no profileOf, no key, no recording of the scenario).
   */
  private async keyed(idx: PackIndex, root: TrieNode, cellId: string): Promise<number | "none" | undefined> {
    if (!this.profileOf) return undefined;
    const { libvirt, scenario } = splitCellId(cellId);
    const same = root.convs.filter((i) => splitCellId(idx.pack.conversations[i].cell).scenario === scenario);
    if (!same.length) return undefined;
    const key = await this.profileOf(libvirt, scenario);
    if (key === undefined) return undefined;
    for (const i of same) {
      const other = splitCellId(idx.pack.conversations[i].cell).libvirt;
      if (other !== libvirt && (await this.profileOf(other, scenario)) === key) return i;
    }
    return "none";
  }

  /** Does this directory hold the cell's own recording (or a broken one, which is then its answer)? */
  hasOwn(cellId: string): boolean {
    const idx = this.index();
    return idx.byCell.has(cellId) || idx.errors.has(cellId);
  }

  /** Does this directory hold any recording of this backend's xend version? */
  serves(): boolean {
    return trieOf(this.index(), this.xendVersion).convs.length > 0;
  }

  async open(cellId: string, instance?: DomainInstance): Promise<BackendSession> {
    // The cell's own recording place: its ids checked. A file there was listed, and confined to the
    // folder after resolving links, when this process loaded the pack (pack.ts sources()); a cell whose
    // file could not be read gets the confinement's own error first (a link out of the folder), as
    // fileFor gives it. No other file is read, so none is confined here.
    checkCellParts(splitCellId(cellId));
    const idx = this.index();
    const bad = idx.errors.get(cellId);
    if (bad?.code === "input.file") this.fileFor(cellId);
    if (bad) throw packErrorToHarness(this.dir, bad, displayPath);
    const root = trieOf(idx, this.xendVersion);
    const own = idx.byCell.get(cellId);
    if (own === undefined && !root.convs.length)
      throw new HarnessError("backend.unmatched", `${cellId}: no recording at ${displayPath(this.fileFor(cellId))}. Record this cell with: ${recordCommand(cellId)}`);
    let guess: number | undefined;
    let keyed: number | undefined;
    if (own === undefined) {
      const k = await this.keyed(idx, root, cellId);
      if (k === "none")
        throw new HarnessError("backend.unmatched", `${cellId}: no recording at ${displayPath(this.fileFor(cellId))}. Record this cell with: ${recordCommand(cellId)}`);
      keyed = k;
      guess = k ?? this.guess(idx, root, cellId, instance);
    }
    return new RecordedSession(idx, root, cellId, own, guess, keyed, instance, this.requireAll);
  }

  async close(): Promise<void> {}
}
