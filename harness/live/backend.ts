/**
 * The live backend: a real xend on a real Xen host, at `http://host:port` or `unix:///path`.
 *
 * Safety rules (see DECISIONS.md):
 * - reads (GET) go out freely; retried a bounded number of times on transport faults (GETs only);
 * - names per run: the runner's `xc-<scenario>-<slug>` goes on the wire as `xc-<run id>-<xend>-<scenario>-<slug>`
 *   (harness/live/names.ts) and is translated back in every reply, so two runs, or two xend entries of
 *   one run, never share a name on one host;
 * - a define must name a domain with the harness's prefix (default `xc-`) and carry a uuid; the name must
 *   be free on xend (GET detail answers 404, or xend 3.2's empty 500); the config's uuid is replaced by
 *   a fresh one (every other byte of the request is kept); after the first signal no define is sent;
 * - ownership is by identity: a domain is this run's only while GET by its name returns the uuid this
 *   run gave it. Every mutating request (the runner's op=start/destroy/delete, the backend's own
 *   cleanup) is preceded by that check; a define xend refused (for any reason) is never touched;
 * - a define whose answer never came (deadline, reset, interrupt) is looked for by name + uuid: deleted
 *   when it is ours, else named as possibly appearing later;
 * - what this run defined is deleted again when the cell's session ends, when the backend closes, and
 *   on SIGINT/SIGTERM/SIGHUP (in-flight defines are awaited first, bounded by their deadline; a second
 *   signal shortens it); every delete is re-read, and "cleanup done" is said only when all are gone;
 * - it never starts a domain by itself; guest control steps are impossible (`guestControl` false).
 */
import { randomUUID } from "node:crypto";
import { HarnessError, isHarnessError } from "../errors.js";
import { readSxpr, valueAt } from "../sxp/index.js";
import { describeTarget, exchange, libvirtGet, libvirtPost, parseTarget, DEFAULT_TIMEOUT_MS, type XendTarget } from "../xend/index.js";
import type { Backend, BackendSession, ControlReply, ControlStep, HttpRequest, HttpResponse, Provenance } from "../xend/types.js";
import { classify, domainOfPath, refused, replaceName, replaceUuid } from "./guard.js";
import { checkRunId, liveNameFor, newRunId, versionMatches } from "./names.js";
import { registerForSignals, type SignalTarget, type CleanupReport } from "./signals.js";

export { versionMatches } from "./names.js";

export const DEFAULT_PREFIX = "xc-";
export const DEFAULT_RETRIES = 2;
/** After a second interrupt: the deadline of every request (and what requests under way still get). */
export const HURRY_MS = 2000;

export interface LiveBackendOptions {
  /** `http://host[:port]` or `unix:///path/to/xend-socket`. */
  url: string;
  /** The xend version the cells are for; xend must report exactly this version (else the backend is unavailable). */
  xendVersion?: string;
  /** Name prefix of every domain the harness defines (default `xc-`). */
  prefix?: string;
  /** The run id in every domain name on the wire (default: 6 random lower-case letters and digits). */
  runId?: string;
  /** Aborting it stops new defines and deletes what this run defined. */
  signal?: AbortSignal;
  /** Per-request deadline (default 30 s). */
  timeoutMs?: number;
  /** How often a GET is retried after a transport fault (default 2; only GETs are ever retried). */
  retries?: number;
  /** Pause before retry n (1-based), in ms; default 250·n. */
  retryDelayMs?: (attempt: number) => number;
  /** Where warnings and cleanup messages go (default standard error). */
  log?: (line: string) => void;
  /** Install SIGINT/SIGTERM/SIGHUP handlers that clean up and exit (default true). */
  handleSignals?: boolean;
  /** Fresh uuids (injectable for tests). */
  newUuid?: () => string;
}

type OwnedState =
  /** define sent, no answer yet */
  | "defining"
  /** xend accepted the define */
  | "defined"
  /** the define's answer never came (deadline, reset, interrupt) and the domain was not seen since */
  | "unknown"
  /** xend refused the define: never ours, never touched */
  | "refused"
  /** xend accepted an op=delete; not re-read yet */
  | "deleted"
  /** re-read: not on xend */
  | "gone"
  /** the name holds another uuid: not ours, left alone */
  | "foreign";

interface Owned {
  /** The runner's name (`xc-pv-utc-v0911`). */
  logical: string;
  /** The name on the wire (`xc-k3f9q2-4.1.2-pv-utc-v0911`). */
  live: string;
  /** The fresh uuid this run gave it. */
  uuid: string;
  state: OwnedState;
  started: boolean;
  cellId: string;
  /** Settles once the define's answer (or its absence) is known. */
  inflight?: Promise<void>;
  /** Why it may be left (for the closing message). */
  note?: string;
  /** Serializes the mutations of one name (the runner's ops and the backend's cleanup). */
  lock: Promise<void>;
}

/** What GET detail says about a name. */
type Sighting = { kind: "absent" } | { kind: "present"; uuid: string | undefined; running: boolean } | { kind: "unknown"; why: string };

let tcpWarned = false;

/** For tests: warn again about TCP on the next backend. */
export function resetTcpWarning(): void {
  tcpWarned = false;
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

function isFailureBody(body: string): boolean {
  return body.includes("xend.err");
}

function ok(res: HttpResponse): boolean {
  return res.status >= 200 && res.status <= 202 && !isFailureBody(res.body);
}

function oneLine(s: string, max = 160): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > max ? t.slice(0, max) + "…" : t;
}

function errText(e: unknown): string {
  return e instanceof HarnessError ? e.oneLine() : e instanceof Error ? e.message : String(e);
}

export class LiveBackend implements Backend, SignalTarget {
  readonly kind = "live" as const;
  readonly concurrency = 1;
  readonly guestControl = false;
  readonly xendVersion: string;
  readonly target: XendTarget;
  readonly where: string;
  readonly runId: string;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelay: (n: number) => number;
  private readonly log: (line: string) => void;
  private readonly newUuid: () => string;
  /** By the runner's name. */
  private readonly owned = new Map<string, Owned>();
  private interrupted: string | null = null;
  private hurry = false;
  private closed = false;
  private unregister: () => void = () => {};
  hostVersion: string | undefined;

  constructor(private readonly opts: LiveBackendOptions) {
    this.target = parseTarget(opts.url);
    this.where = describeTarget(this.target);
    this.xendVersion = opts.xendVersion ?? "unknown";
    if (opts.xendVersion !== undefined && !/^\d+(\.\d+)*$/.test(opts.xendVersion))
      throw new HarnessError("input.usage", `live backend: xend version '${opts.xendVersion}' is not a version (e.g. 4.1.2)`);
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(this.prefix))
      throw new HarnessError("input.usage", `live backend: bad domain name prefix '${this.prefix}' (letters, digits, '_', '.', '-')`);
    this.runId = opts.runId === undefined ? newRunId() : checkRunId(opts.runId, "live backend: run id");
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const retries = opts.retries ?? DEFAULT_RETRIES;
    if (!Number.isInteger(retries) || retries < 0 || retries > 10)
      throw new HarnessError("input.usage", `live backend: retries must be a whole number from 0 to 10 (got ${retries})`);
    this.retries = retries;
    this.retryDelay = opts.retryDelayMs ?? ((n) => 250 * n);
    this.log = opts.log ?? ((l) => process.stderr.write(l + "\n"));
    this.newUuid = opts.newUuid ?? randomUUID;
  }

  /** Check xend answers and is exactly the wanted version; install the interrupt handlers. */
  async start(): Promise<void> {
    if (this.target.kind === "tcp" && !tcpWarned) {
      tcpWarned = true;
      this.log(
        `warning: the live backend reaches xend at ${this.where} over TCP: xend's HTTP interface has no authentication, anyone who can reach that port controls the host's domains (prefer unix:///var/lib/xend/xend-socket)`,
      );
    }
    const res = await this.transmit(libvirtGet("/xend/node/"));
    if (res.status !== 200) throw new HarnessError("backend.http", `xend at ${this.where} answered GET /xend/node/ with ${res.status} ${res.reason}`);
    let version: string | undefined;
    let reported = "";
    try {
      const node = readSxpr(res.body, { dialect: "libvirt", strict: false });
      const major = valueAt(node, "/node/xen_major");
      const minor = valueAt(node, "/node/xen_minor");
      const extra = valueAt(node, "/node/xen_extra");
      reported = `xen_major ${major ?? "(none)"}, xen_minor ${minor ?? "(none)"}, xen_extra ${extra === undefined ? "(none)" : `'${extra}'`}`;
      if (major !== undefined && minor !== undefined && /^\d+$/.test(major) && /^\d+$/.test(minor))
        version = `${major}.${minor}${/^\.\d+/.exec(extra ?? "")?.[0] ?? ""}`;
    } catch (e) {
      throw new HarnessError("backend.protocol", `xend at ${this.where}: GET /xend/node/ is not an S-expression: ${(e as Error).message}`, { cause: e });
    }
    if (!version)
      throw new HarnessError(
        "backend.unavailable",
        `xend at ${this.where} does not report its Xen version in GET /xend/node/ (${reported}); the live backend does not assume one${this.opts.xendVersion ? ` (the cells are for xend ${this.opts.xendVersion})` : ""}`,
      );
    this.hostVersion = version;
    if (this.opts.xendVersion && !versionMatches(this.opts.xendVersion, version))
      throw new HarnessError(
        "backend.unavailable",
        `the live xend at ${this.where} is Xen ${version} (${reported}), not ${this.opts.xendVersion}: versions are compared exactly, number by number (a missing number counts as 0; run with --xend ${version} to test this host)`,
      );
    if (this.opts.handleSignals !== false) this.unregister = registerForSignals(this);
    if (this.opts.signal) {
      const onAbort = () => void this.interrupt("aborted").catch(() => {});
      if (this.opts.signal.aborted) onAbort();
      else this.opts.signal.addEventListener("abort", onAbort, { once: true });
    }
  }

  /** The version in this run's names: the cells' xend version (or, without one, the host's). */
  private get nameVersion(): string {
    return this.opts.xendVersion ?? this.hostVersion ?? "0";
  }

  /** The name the runner's `logical` has on the wire in this run. */
  liveName(logical: string): string {
    return liveNameFor(logical, { prefix: this.prefix, runId: this.runId, xend: this.nameVersion });
  }

  provenance(): Provenance {
    return {
      xendVersion: this.hostVersion ?? this.xendVersion,
      tree: this.opts.url,
      commit: "unknown",
      tz: "unknown (the live host's own)",
      notes: [
        "live xend on a real Xen host",
        `domain names on the wire were ${this.prefix}<run id>-${this.nameVersion}-<rest of the name>, shown here as the runner sent and read them; each define carried a fresh uuid (requests show the runner's, replies the fresh one)`,
      ],
    };
  }

  /** Wire names this run defined that may still exist on xend (including defines under way). */
  leftovers(): string[] {
    return [...this.owned.values()].filter((o) => this.mayBeLeft(o)).map((o) => o.live);
  }

  private mayBeLeft(o: Owned): boolean {
    return o.state === "defining" || o.state === "defined" || o.state === "unknown" || o.state === "deleted";
  }

  /** What may be left, and what holds one of this run's names but is not ours, each with why. */
  report(): CleanupReport {
    const left: string[] = [];
    const notOurs: string[] = [];
    let defined = 0;
    for (const o of this.owned.values()) {
      if (o.state !== "refused") defined++;
      if (this.mayBeLeft(o)) left.push(`${o.live} (${o.note ?? describeState(o)})`);
      else if (o.state === "foreign") notOurs.push(`${o.live} (${o.note ?? "another uuid"})`);
    }
    return { where: this.where, defined, left, notOurs };
  }

  async open(cellId: string): Promise<BackendSession> {
    if (this.closed) throw new HarnessError("backend.unavailable", "the live backend is closed");
    const mine = new Set<string>();
    return {
      send: (req, step) => this.send(req, step, cellId, mine),
      control: async (c: ControlStep, label: string): Promise<ControlReply> => {
        throw new HarnessError("backend.unavailable", `${label}: the live backend cannot do ${c.kind} (a real host's guest cannot be imitated)`);
      },
      end: async () => {
        const owned = [...mine].map((n) => this.owned.get(n)).filter((o): o is Owned => o !== undefined);
        await Promise.all(owned.map((o) => this.cleanupOne(o)));
        const left = owned.filter((o) => this.mayBeLeft(o));
        if (left.length)
          throw new HarnessError("backend.refused", `the live backend could not delete ${left.map((o) => `${o.live} (${o.note ?? describeState(o)})`).join(", ")} on xend at ${this.where}`);
      },
      provenance: () => this.provenance(),
    };
  }

  /** One request, after the safety checks. */
  private async send(req: HttpRequest, _step: string, cellId: string, mine: Set<string>): Promise<HttpResponse> {
    const intent = classify(req);
    switch (intent.kind) {
      case "read":
        return this.read(req);
      case "other":
        throw refused(`the live backend refuses ${intent.why}: it only reads, defines domains named '${this.prefix}…' and changes domains it created in this run`);
      case "op": {
        const o = this.owned.get(intent.name);
        if (!o || o.state === "gone" || o.state === "refused")
          throw refused(`the live backend refuses op=${intent.op} on domain '${intent.name}': it was not created by this run`);
        if (this.interrupted && intent.op !== "destroy" && intent.op !== "delete")
          throw refused(`the live backend refuses op=${intent.op} on '${o.live}': ${this.interrupted}`);
        return this.locked(o, () => this.opOnOwned(o, intent.op, req));
      }
      case "define":
        return this.define(req, intent, cellId, mine);
    }
  }

  /** A GET; a domain name with the prefix is read under this run's name and the reply translated back. */
  private async read(req: HttpRequest): Promise<HttpResponse> {
    const name = domainOfPath(req.path.split("?")[0]);
    if (name === undefined || !name.startsWith(this.prefix)) return this.transmit(req);
    const live = this.liveName(name);
    const res = await this.transmit({ ...req, path: rewritePath(req.path, live) });
    return translate(res, live, name);
  }

  private async define(req: HttpRequest, intent: { op: "new" | "create"; name: string; uuid: string | undefined }, cellId: string, mine: Set<string>): Promise<HttpResponse> {
    if (this.interrupted) throw refused(`the live backend refuses to define '${intent.name}': ${this.interrupted}`);
    if (!intent.name.startsWith(this.prefix))
      throw refused(`the live backend only defines domains whose names start with '${this.prefix}' (got '${intent.name}')`);
    const prior = this.owned.get(intent.name);
    if (prior && prior.state !== "gone" && prior.state !== "refused")
      throw refused(`the live backend refuses to define '${intent.name}' again: this run defined it already (cell ${prior.cellId}, ${prior.live}: ${describeState(prior)})`);
    if (!intent.uuid)
      throw refused(`the live backend refuses to define '${intent.name}' without a uuid: it deletes only domains that carry the uuid it gave them`);
    const live = this.liveName(intent.name);
    const seen = await this.lookup(live);
    if (seen.kind === "present")
      throw refused(
        `domain '${live}' already exists on xend at ${this.where} (GET detail answers 200${seen.uuid ? `, uuid ${seen.uuid}` : ""}) and was not created by this run: refusing to define over it (remove it yourself if it is a leftover)`,
      );
    if (seen.kind === "unknown") throw refused(`cannot tell whether '${live}' is free on xend at ${this.where} (${seen.why}): refusing to define it`);
    // A signal may have arrived while the free-name check was under way.
    if (this.interrupted) throw refused(`the live backend refuses to define '${intent.name}': ${this.interrupted} (during the free-name check; nothing was defined)`);
    const fresh = this.newUuid();
    let body = replaceUuid(req.body ?? "", intent.uuid, fresh);
    body = replaceName(body, intent.name, live);
    const sent: HttpRequest = {
      ...req,
      body,
      headers: req.headers.map(([k, v]): [string, string] => (k.toLowerCase() === "content-length" ? [k, String(Buffer.byteLength(body, "utf8"))] : [k, v])),
    };
    const check = classify(sent);
    if (check.kind !== "define" || check.name !== live || check.uuid !== fresh)
      throw refused(`the live backend could not give '${intent.name}' its run name and a fresh uuid in the request body: refusing to send a define it could not recognise as its own`);
    const o: Owned = { logical: intent.name, live, uuid: fresh, state: "defining", started: intent.op === "create", cellId, lock: Promise.resolve() };
    this.owned.set(intent.name, o);
    mine.add(intent.name);
    const run = (async (): Promise<HttpResponse> => {
      let res: HttpResponse;
      try {
        res = await this.transmit(sent);
      } catch (e) {
        // No answer: xend may still create it (a slow define goes on after our deadline).
        o.state = "unknown";
        o.note = `the define got no answer (${oneLine(errText(e), 120)})`;
        await this.settleUnknown(o);
        throw e;
      }
      if (ok(res)) {
        o.state = "defined";
        return translate(res, live, intent.name);
      }
      // Refused, for whatever reason: never ours, never touched.
      o.state = "refused";
      if (/already exists/i.test(res.body))
        throw refused(
          `xend at ${this.where} refuses to define '${live}': the name was taken between the free-name check and the define (${oneLine(res.body, 120)}); not this run's domain, left alone`,
        );
      return translate(res, live, intent.name);
    })();
    o.inflight = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /** After a define without an answer: is it there with our uuid? */
  private async settleUnknown(o: Owned): Promise<void> {
    const seen = await this.lookup(o.live);
    if (seen.kind === "present" && seen.uuid === o.uuid) {
      o.state = "defined";
      o.note = undefined;
    } else if (seen.kind === "present") {
      o.state = "foreign";
      o.note = `holds uuid ${seen.uuid ?? "(none)"}, not the ${o.uuid} this run gave it: left alone`;
    } else if (seen.kind === "absent") o.note = `the define got no answer and ${o.live} was not on xend when looked for by name: it may still appear`;
    else o.note = `the define got no answer and looking for it failed (${seen.why})`;
  }

  /** Run `f` after every earlier mutation of this name (and after its define settled). */
  private locked<T>(o: Owned, f: () => Promise<T>): Promise<T> {
    const prev = o.lock;
    const p = prev.then(async () => {
      if (o.inflight) await o.inflight;
      return f();
    });
    o.lock = p.then(
      () => {},
      () => {},
    );
    return p;
  }

  /** The runner's op on a domain of this run: sent only after GET by name shows this run's uuid. */
  private async opOnOwned(o: Owned, op: string, req: HttpRequest): Promise<HttpResponse> {
    if (o.state === "refused" || o.state === "gone" || o.state === "foreign")
      throw refused(`the live backend refuses op=${op} on '${o.live}': ${o.state === "foreign" ? o.note : o.state === "gone" ? "it is no longer on xend" : "xend refused its define"}`);
    const seen = await this.lookup(o.live);
    if (seen.kind === "unknown") throw refused(`not sending op=${op}: cannot check that '${o.live}' is still the domain this run defined (${seen.why})`);
    if (seen.kind === "absent") {
      if (o.state !== "unknown") o.state = "gone";
      throw refused(`not sending op=${op}: '${o.live}' is not on xend at ${this.where} (looked for by name)`);
    }
    if (seen.uuid !== o.uuid) {
      o.state = "foreign";
      o.note = `holds uuid ${seen.uuid ?? "(none)"}, not the ${o.uuid} this run gave it: left alone`;
      throw refused(`not sending op=${op}: '${o.live}' ${o.note}`);
    }
    if (o.state === "unknown") o.state = "defined";
    const res = await this.transmit({ ...req, path: rewritePath(req.path, o.live) });
    if (ok(res)) {
      if (op === "start") o.started = true;
      if (op === "destroy") o.started = false;
      if (op === "delete") o.state = "deleted";
    }
    return translate(res, o.live, o.logical);
  }

  /** GET detail of a wire name: absent (404, or xend 3.2's empty 500), present with its uuid, or unknown. */
  private async lookup(live: string): Promise<Sighting> {
    let res: HttpResponse;
    try {
      res = await this.transmit(libvirtGet(`/xend/domain/${live}?detail=1`));
    } catch (e) {
      return { kind: "unknown", why: oneLine(errText(e), 160) };
    }
    if (res.status === 404) return { kind: "absent" };
    if (res.status === 500 && res.body.trim() === "") return { kind: "absent" };
    if (res.status >= 200 && res.status <= 202) {
      try {
        const t = readSxpr(res.body, { dialect: "libvirt", strict: false });
        const domid = valueAt(t, "/domain/domid");
        return { kind: "present", uuid: valueAt(t, "/domain/uuid"), running: domid !== undefined && domid !== "-1" && domid !== "" };
      } catch (e) {
        return { kind: "unknown", why: `GET detail of ${live} is not an S-expression: ${oneLine((e as Error).message, 80)}` };
      }
    }
    return { kind: "unknown", why: `GET detail of ${live} answers ${res.status}${res.body.trim() ? `: ${oneLine(res.body, 120)}` : ""}` };
  }

  /** Send on the wire; GETs are retried after transport faults, nothing else is. */
  private async transmit(req: HttpRequest): Promise<HttpResponse> {
    const attempts = req.method === "GET" ? this.retries + 1 : 1;
    for (let i = 1; ; i++) {
      const timeoutMs = this.hurry ? Math.min(this.timeoutMs, HURRY_MS) : this.timeoutMs;
      try {
        return await this.raceHurry(exchange(this.target, req, { timeoutMs }), req);
      } catch (e) {
        const transient = isHarnessError(e, "backend.connect") || isHarnessError(e, "backend.timeout") || isHarnessError(e, "backend.protocol");
        if (!transient || i >= attempts || this.hurry) {
          if (i > 1 && e instanceof HarnessError)
            throw new HarnessError(e.code, `${e.message} (gave up after ${i} attempts)`, { cause: e });
          throw e;
        }
        await delay(this.retryDelay(i));
      }
    }
  }

  /** Delete one of this run's domains if it is still there with this run's uuid, and re-read it. */
  private cleanupOne(o: Owned): Promise<void> {
    return this.locked(o, async () => {
      if (o.state === "refused" || o.state === "gone" || o.state === "foreign") return;
      const seen = await this.lookup(o.live);
      if (seen.kind === "unknown") {
        o.note = `could not check it: ${seen.why}`;
        return;
      }
      if (seen.kind === "absent") {
        if (o.state === "unknown") o.note = `its define got no answer and it was not on xend when looked for by name: it may still appear`;
        else {
          o.state = "gone";
          o.note = undefined;
        }
        return;
      }
      if (seen.uuid !== o.uuid) {
        o.state = "foreign";
        o.note = `holds uuid ${seen.uuid ?? "(none)"}, not the ${o.uuid} this run gave it: left alone`;
        return;
      }
      if (o.started || seen.running) {
        try {
          await this.transmit(libvirtPost(`/xend/domain/${o.live}`, "op=destroy"));
        } catch {
          /* the delete below says whether it matters */
        }
      }
      let why = "";
      try {
        const res = await this.transmit(libvirtPost(`/xend/domain/${o.live}`, "op=delete"));
        if (ok(res)) o.state = "deleted";
        else why = `op=delete answered ${res.status}${res.body.trim() ? `: ${oneLine(res.body, 120)}` : ""}`;
      } catch (e) {
        why = `op=delete failed: ${oneLine(errText(e), 240)}`;
      }
      // Re-read: only a name xend no longer knows counts as deleted.
      const after = await this.lookup(o.live);
      if (after.kind === "absent") {
        o.state = "gone";
        o.note = undefined;
      } else if (after.kind === "present" && after.uuid !== o.uuid) {
        o.state = "foreign";
        o.note = `deleted, and the name now holds uuid ${after.uuid ?? "(none)"} (someone else's): left alone`;
      } else {
        if (o.state !== "deleted") o.state = "defined";
        o.note = after.kind === "unknown" ? `${why || "deleted"}, but the re-read failed (${after.why})` : `still on xend after the cleanup${why ? ` (${why})` : ""}`;
      }
    });
  }

  private async cleanupAll(): Promise<void> {
    await Promise.all([...this.owned.values()].map((o) => this.cleanupOne(o)));
  }

  /** Stop new defines, wait for defines under way (bounded by their deadline), delete what is ours. */
  async interrupt(why: string): Promise<CleanupReport> {
    if (!this.interrupted) this.interrupted = `the run was ${why}`;
    await this.cleanupAll();
    return this.report();
  }

  /** Defines whose answer is still awaited. */
  definesUnderWay(): string[] {
    return [...this.owned.values()].filter((o) => o.state === "defining").map((o) => o.live);
  }

  /** A second interrupt: shorter deadlines, no retries; requests under way get HURRY_MS more. */
  hurryUp(): void {
    this.hurry = true;
    for (const w of [...this.hurryWaiters]) w();
  }

  private readonly hurryWaiters = new Set<() => void>();

  private raceHurry<T>(p: Promise<T>, req: HttpRequest): Promise<T> {
    if (this.hurry) return p;
    let waiter!: () => void;
    const cut = new Promise<never>((_, reject) => {
      waiter = () => {
        const t = setTimeout(
          () => reject(new HarnessError("backend.timeout", `xend at ${this.where}: ${req.method} ${req.path} cut short ${HURRY_MS} ms after the second interrupt`)),
          HURRY_MS,
        );
        t.unref();
      };
      this.hurryWaiters.add(waiter);
    });
    return Promise.race([p, cut]).finally(() => this.hurryWaiters.delete(waiter));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.cleanupAll();
      const r = this.report();
      if (r.defined === 0) return;
      if (!r.left.length)
        this.log(`live backend: cleanup done: the ${r.defined} domain(s) this run (${this.runId}) defined on xend at ${this.where} are deleted (each re-read: gone)`);
      else
        this.log(
          `live backend: cleanup incomplete on xend at ${this.where}: may be left: ${r.left.join("; ")}; check and remove them by hand (xm list; xm delete NAME)`,
        );
      if (r.notOurs.length) this.log(`live backend: not this run's, left alone: ${r.notOurs.join("; ")}`);
    } finally {
      this.unregister();
    }
  }
}

function describeState(o: Owned): string {
  switch (o.state) {
    case "defining":
      return "its define is under way";
    case "defined":
      return "defined, not deleted";
    case "deleted":
      return "deleted, not re-read";
    case "unknown":
      return "its define got no answer";
    default:
      return o.state;
  }
}

/** `/xend/domain/<name>[?…]` with the name replaced. */
function rewritePath(p: string, live: string): string {
  return p.replace(/^(\/xend\/domain\/)[^/?#]+/, `$1${live}`);
}

/** A reply as if xend knew the domain by the runner's name (body and headers; Content-Length kept true). */
function translate(res: HttpResponse, live: string, logical: string): HttpResponse {
  if (!res.body.includes(live) && !res.headers.some(([, v]) => v.includes(live))) return res;
  const body = res.body.split(live).join(logical);
  const headers = res.headers.map(([k, v]): [string, string] =>
    k.toLowerCase() === "content-length" ? [k, String(Buffer.byteLength(body, "utf8"))] : [k, v.split(live).join(logical)],
  );
  return { ...res, body, headers };
}

export async function startLiveBackend(opts: LiveBackendOptions): Promise<LiveBackend> {
  const b = new LiveBackend(opts);
  await b.start();
  return b;
}
