/**
 * The live backend: a real xend on a real Xen host, at `http://host:port` or `unix:///path`.
 *
 * Safety rules (see DECISIONS.md):
 * - reads (GET) go out freely; retried a bounded number of times on transport faults (GETs only);
 * - a define (`op=new`/`op=create`) must name a domain with the harness's prefix (default `xc-`),
 *   the name must be free on xend (GET detail answers 404, or xend 3.2's empty 500), and the config's
 *   uuid is replaced by a fresh one (every other byte of the request is kept);
 * - any other mutating request (op=start/destroy/delete/shutdown/..., DELETE, PUT) is sent only for a
 *   domain this run defined, else it is refused with `backend.refused` before touching the wire;
 * - what this run defined is deleted again when the cell's session ends, when the backend closes,
 *   and on SIGINT/SIGTERM (a second signal shortens the deadlines; what is left is named);
 * - it never starts a domain by itself; guest control steps are impossible (`guestControl` false).
 */
import { randomUUID } from "node:crypto";
import { HarnessError, isHarnessError } from "../errors.js";
import { readSxpr, valueAt } from "../sxp/index.js";
import { describeTarget, exchange, libvirtGet, libvirtPost, parseTarget, DEFAULT_TIMEOUT_MS, type XendTarget } from "../xend/index.js";
import type { Backend, BackendSession, ControlReply, ControlStep, HttpRequest, HttpResponse, Provenance } from "../xend/types.js";
import { classify, refused, replaceUuid } from "./guard.js";
import { registerForSignals, type SignalTarget } from "./signals.js";

export const DEFAULT_PREFIX = "xc-";
export const DEFAULT_RETRIES = 2;
/** After a second interrupt: the deadline of every request (and what requests under way still get). */
export const HURRY_MS = 2000;

export interface LiveBackendOptions {
  /** `http://host[:port]` or `unix:///path/to/xend-socket`. */
  url: string;
  /** The xend version the cells are for; when xend reports another version the backend is unavailable. */
  xendVersion?: string;
  /** Name prefix of every domain the harness defines (default `xc-`). */
  prefix?: string;
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
  /** Install SIGINT/SIGTERM handlers that clean up and exit (default true). */
  handleSignals?: boolean;
  /** Fresh uuids (injectable for tests). */
  newUuid?: () => string;
}

interface Owned {
  name: string;
  /** The uuid xend was given. */
  uuid?: string;
  /** defining: request sent, answer unknown; defined: xend accepted it; gone: deleted again. */
  state: "defining" | "defined" | "gone";
  started: boolean;
  cellId: string;
}

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

/** Does the host's version (`4.1.2`, `3.2.0`) match the wanted one (`4.1.2`, `3.2`)? */
export function versionMatches(wanted: string, host: string): boolean {
  const w = wanted.split(".");
  const h = host.split(".");
  return w.every((p, i) => h[i] === p || (h[i] !== undefined && Number(h[i]) === Number(p)));
}

export class LiveBackend implements Backend, SignalTarget {
  readonly kind = "live" as const;
  readonly concurrency = 1;
  readonly guestControl = false;
  readonly xendVersion: string;
  readonly target: XendTarget;
  readonly where: string;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelay: (n: number) => number;
  private readonly log: (line: string) => void;
  private readonly newUuid: () => string;
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
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(this.prefix))
      throw new HarnessError("input.usage", `live backend: bad domain name prefix '${this.prefix}' (letters, digits, '_', '.', '-')`);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const retries = opts.retries ?? DEFAULT_RETRIES;
    if (!Number.isInteger(retries) || retries < 0 || retries > 10)
      throw new HarnessError("input.usage", `live backend: retries must be a whole number from 0 to 10 (got ${retries})`);
    this.retries = retries;
    this.retryDelay = opts.retryDelayMs ?? ((n) => 250 * n);
    this.log = opts.log ?? ((l) => process.stderr.write(l + "\n"));
    this.newUuid = opts.newUuid ?? randomUUID;
  }

  /** Check xend answers and is the wanted version; install the interrupt handlers. */
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
    try {
      const node = readSxpr(res.body, { dialect: "libvirt", strict: false });
      const major = valueAt(node, "/node/xen_major");
      const minor = valueAt(node, "/node/xen_minor");
      const extra = valueAt(node, "/node/xen_extra") ?? "";
      if (major !== undefined && minor !== undefined) version = `${major}.${minor}${/^\.\d+/.exec(extra)?.[0] ?? ""}`;
    } catch (e) {
      throw new HarnessError("backend.protocol", `xend at ${this.where}: GET /xend/node/ is not an S-expression: ${(e as Error).message}`, { cause: e });
    }
    this.hostVersion = version;
    if (this.opts.xendVersion && version && !versionMatches(this.opts.xendVersion, version))
      throw new HarnessError("backend.unavailable", `the live xend at ${this.where} is Xen ${version}, not ${this.opts.xendVersion}`);
    if (this.opts.xendVersion && !version)
      this.log(`warning: xend at ${this.where} does not report its Xen version (xen_major/xen_minor); assuming ${this.opts.xendVersion}`);
    if (this.opts.handleSignals !== false) this.unregister = registerForSignals(this);
    if (this.opts.signal) {
      const onAbort = () => void this.interrupt("aborted").catch(() => {});
      if (this.opts.signal.aborted) onAbort();
      else this.opts.signal.addEventListener("abort", onAbort, { once: true });
    }
  }

  provenance(): Provenance {
    return {
      xendVersion: this.hostVersion ?? this.xendVersion,
      tree: this.opts.url,
      commit: "unknown",
      tz: "unknown (the live host's own)",
      notes: ["live xend on a real Xen host"],
    };
  }

  /** Names this run defined that may still exist on xend. */
  leftovers(): string[] {
    return [...this.owned.values()].filter((o) => o.state !== "gone").map((o) => o.name);
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
        const left = await this.cleanup([...mine]);
        if (left.length) throw new HarnessError("backend.refused", `the live backend could not delete ${left.join(", ")} on xend at ${this.where}`);
      },
      provenance: () => this.provenance(),
    };
  }

  /** One request, after the safety checks. */
  private async send(req: HttpRequest, _step: string, cellId: string, mine: Set<string>): Promise<HttpResponse> {
    const intent = classify(req);
    switch (intent.kind) {
      case "read":
        return this.transmit(req);
      case "other":
        throw refused(`the live backend refuses ${intent.why}: it only reads, defines domains named '${this.prefix}…' and changes domains it created in this run`);
      case "op": {
        const o = this.owned.get(intent.name);
        if (!o || o.state === "gone")
          throw refused(`the live backend refuses op=${intent.op} on domain '${intent.name}': it was not created by this run`);
        if (this.interrupted && intent.op !== "destroy" && intent.op !== "delete")
          throw refused(`the live backend refuses op=${intent.op} on '${intent.name}': ${this.interrupted}`);
        const res = await this.transmit(req);
        const ok = res.status >= 200 && res.status <= 202 && !isFailureBody(res.body);
        if (ok && intent.op === "start") o.started = true;
        if (ok && intent.op === "delete") o.state = "gone";
        return res;
      }
      case "define": {
        if (this.interrupted) throw refused(`the live backend refuses to define '${intent.name}': ${this.interrupted}`);
        if (!intent.name.startsWith(this.prefix))
          throw refused(`the live backend only defines domains whose names start with '${this.prefix}' (got '${intent.name}')`);
        const prior = this.owned.get(intent.name);
        if (prior && prior.state !== "gone")
          throw refused(`the live backend refuses to define '${intent.name}' again: this run defined it already (cell ${prior.cellId})`);
        const free = await this.nameIsFree(intent.name);
        if (!free.free)
          throw refused(`domain '${intent.name}' already exists on xend at ${this.where} (${free.why}) and was not created by this run: refusing to define over it (remove it yourself if it is a leftover)`);
        let body = req.body ?? "";
        let uuid = intent.uuid;
        if (intent.uuid) {
          const fresh = this.newUuid();
          const replaced = replaceUuid(body, intent.uuid, fresh);
          if (replaced !== body) {
            body = replaced;
            uuid = fresh;
          }
        }
        const sent: HttpRequest = {
          ...req,
          body,
          headers: req.headers.map(([k, v]): [string, string] => (k.toLowerCase() === "content-length" ? [k, String(Buffer.byteLength(body, "utf8"))] : [k, v])),
        };
        const o: Owned = { name: intent.name, uuid, state: "defining", started: intent.op === "create", cellId };
        this.owned.set(intent.name, o);
        mine.add(intent.name);
        const res = await this.transmit(sent);
        if (res.status >= 200 && res.status <= 202 && !isFailureBody(res.body)) o.state = "defined";
        return res;
      }
    }
  }

  /** GET detail answers 404 (or xend 3.2's empty 500): nobody has that name. */
  private async nameIsFree(name: string): Promise<{ free: true } | { free: false; why: string }> {
    const res = await this.transmit(libvirtGet(`/xend/domain/${name}?detail=1`));
    if (res.status === 404) return { free: true };
    if (res.status === 500 && res.body.trim() === "") return { free: true };
    if (res.status >= 200 && res.status <= 202) return { free: false, why: "GET detail answers 200" };
    return { free: false, why: `GET detail answers ${res.status}${res.body.trim() ? `: ${res.body.trim().slice(0, 120)}` : ""}` };
  }

  /** Send on the wire; GETs are retried after transport faults, nothing else is. */
  private async transmit(req: HttpRequest): Promise<HttpResponse> {
    const timeoutMs = this.hurry ? Math.min(this.timeoutMs, HURRY_MS) : this.timeoutMs;
    const attempts = req.method === "GET" ? this.retries + 1 : 1;
    for (let i = 1; ; i++) {
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

  /** Destroy (if started) and delete the named domains of this run; returns what is left. */
  private async cleanup(names: string[]): Promise<string[]> {
    const left: string[] = [];
    for (const name of names) {
      const o = this.owned.get(name);
      if (!o || o.state === "gone") continue;
      try {
        if (o.started) {
          try {
            await this.transmit(libvirtPost(`/xend/domain/${name}`, "op=destroy"));
          } catch {
            /* the delete below says whether it matters */
          }
        }
        const res = await this.transmit(libvirtPost(`/xend/domain/${name}`, "op=delete"));
        if (res.status >= 200 && res.status <= 202 && !isFailureBody(res.body)) o.state = "gone";
        else if ((await this.nameIsFree(name)).free) o.state = "gone";
      } catch {
        /* counted below */
      }
      if (o.state !== "gone") left.push(name);
    }
    return left;
  }

  /** Stop new defines and delete everything this run defined. */
  async interrupt(why: string): Promise<string[]> {
    if (!this.interrupted) this.interrupted = `the run was ${why}`;
    return this.cleanup(this.leftovers());
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
      const left = await this.cleanup(this.leftovers());
      if (left.length) this.log(`live backend: could not delete ${left.join(", ")} on xend at ${this.where}; remove them by hand`);
    } finally {
      this.unregister();
    }
  }
}

export async function startLiveBackend(opts: LiveBackendOptions): Promise<LiveBackend> {
  const b = new LiveBackend(opts);
  await b.start();
  return b;
}
