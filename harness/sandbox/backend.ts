/**
 * The sandbox backend: one real xend process (a Xen tree's own xend under Python 2.7, with this
 * project's fake hypervisor and xenstore) serving many cells at once.
 *
 * Cells share the xend, so a session holds a lock on every domain name it touches (by request path
 * or by the `(name ...)` of a posted config) until it ends; a cell that uses the same name waits.
 * At `end()` the session destroys and deletes the domains it defined, unless told to keep them.
 * After every non-GET request the session waits until xend's xenstore watches have run (control
 * `settle`), so a following GET sees what xend's own watch callbacks did, as a human would.
 */
import * as fs from "node:fs";
import { HarnessError, isHarnessError } from "../errors.js";
import { readSxpr } from "../sxp/index.js";
import { exchange, parseForm, libvirtPost, libvirtGet } from "../xend/index.js";
import type {
  Backend,
  BackendSession,
  ControlReply,
  ControlStep,
  EffectiveClock,
  HttpRequest,
  HttpResponse,
  Provenance,
  XendTarget,
} from "../xend/index.js";
import type { PlaceholderInfo, ReadyInfo, SandboxProcess } from "./launch.js";
import { stderrTailText } from "./launch.js";
import type { XenTree } from "./tree.js";

export interface SandboxBackendInit {
  xendVersion: string;
  tree: XenTree;
  proc: SandboxProcess;
  ready: ReadyInfo;
  python: { path: string; version: string };
  tz: string;
  concurrency: number;
  timeoutMs: number;
  placeholderNote?: string;
  startupMs: number;
  keepStateDir: boolean;
  cleanupDomains: boolean;
  log?: (line: string) => void;
}

/** Extra things only the sandbox can tell (not part of the common Backend interface). */
export interface SandboxSession extends BackendSession {
  /** The domain's `config.sxp` as xend saved it (xend-domains-path/<uuid>/config.sxp), or null. */
  configSxp(domain: string): Promise<string | null>;
  /** Any control request (see harness/sandbox/py/control.py), raw JSON in and out. */
  controlRaw(req: Record<string, unknown>): Promise<Record<string, unknown>>;
}

const CONTROL_TIMEOUT_MS = 60_000;

/** Per-name locks shared by the sessions of one backend. */
class NameLocks {
  private held = new Map<string, symbol>();
  private waiters: (() => void)[] = [];
  async acquire(name: string, owner: symbol): Promise<void> {
    for (;;) {
      const h = this.held.get(name);
      if (h === undefined || h === owner) {
        this.held.set(name, owner);
        return;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  release(owner: symbol): void {
    for (const [n, o] of this.held) if (o === owner) this.held.delete(n);
    for (const w of this.waiters.splice(0)) w();
  }
}

/** The domain names a request touches, and which of them it defines. */
export function domainNamesOf(req: HttpRequest): { touched: string[]; defined: string[] } {
  const touched: string[] = [];
  const defined: string[] = [];
  const p = req.path.split("?")[0] ?? "";
  const m = /^\/xend\/domain\/([^/]+)/.exec(p);
  if (m?.[1]) {
    try {
      touched.push(decodeURIComponent(m[1]));
    } catch {
      touched.push(m[1]);
    }
  }
  if (req.method === "POST" && req.body && /^\/xend\/domain\/?$/.test(p)) {
    const form = parseForm(req.body);
    const op = form.get("op")?.[0];
    const cfg = form.get("config")?.[0];
    if (cfg && (op === "new" || op === "create")) {
      try {
        const tree = readSxpr(cfg, { dialect: "xend" });
        if (Array.isArray(tree)) {
          for (const c of tree) {
            if (Array.isArray(c) && c[0] === "name" && typeof c[1] === "string") {
              touched.push(c[1]);
              defined.push(c[1]);
            }
          }
        }
      } catch {
        /* xend will answer the parse error itself */
      }
    }
  }
  return { touched, defined };
}

export class SandboxBackend implements Backend {
  readonly kind = "sandbox" as const;
  readonly xendVersion: string;
  readonly concurrency: number;
  readonly guestControl = true;
  /** Milliseconds from spawning Python to xend answering `GET /xend/node/`. */
  readonly startupMs: number;
  readonly xendTarget: XendTarget;
  readonly controlTarget: XendTarget;
  readonly stateDir: string;
  private readonly init: SandboxBackendInit;
  private placeholders: PlaceholderInfo;
  private readonly locks = new NameLocks();
  private closed = false;
  private deadReason: string | undefined;
  private closing: Promise<void> | undefined;

  constructor(init: SandboxBackendInit) {
    this.init = init;
    this.xendVersion = init.xendVersion;
    this.concurrency = init.concurrency;
    this.startupMs = init.startupMs;
    this.xendTarget = init.ready.xend;
    this.controlTarget = init.ready.control;
    this.stateDir = init.ready.stateDir;
    this.placeholders = init.ready.placeholders;
    init.proc.onUnexpectedExit = (why) => {
      this.deadReason = `sandbox xend process ${why}${stderrTailText(init.proc)}`;
      init.log?.(`[sandbox] ${this.deadReason}`);
      void this.close();
    };
  }

  provenance(): Provenance {
    const t = this.init.tree;
    const r = this.init.ready;
    const ph = this.placeholders;
    const notes = [
      `python ${this.init.python.version} (${this.init.python.path})`,
      `tree ${t.pythonDir} (xend family ${t.family}; origin from ${t.originSource})`,
      ...(t.origin.ref ? [`ref ${t.origin.ref}`] : []),
      ...(t.origin.note ? [`origin note: ${t.origin.note}`] : []),
      `host UTC offset ${r.hostUtcOffset} s under TZ=${r.tz}`,
      ...(r.needs ? [r.needs] : []),
      "fakes (xend-compat): xen.lowlevel.xc (hypervisor), xen.lowlevel.xs (xenstore), recorder modules acm/flask/scf/process/checkpoint/netlink/ptsname; balloon stat stub; createDeviceModel recorder (no qemu-dm runs); no host PCI devices",
      `generated modules: ${r.generatedModules.length ? r.generatedModules.join(", ") : "none needed"}`,
      `placeholder files (${ph.mode}${ph.mode === "namespace" ? ", overlays on " + (ph.overlays.join(" ") || "nothing yet") + " in a private mount namespace" : ""}): ${ph.provided.length ? ph.provided.join(" ") : "none"}`,
      ...(r.privateMounts?.length ? [`private to the sandbox (tmpfs in its mount namespace): ${r.privateMounts.join(" ")}; temporary files in its state directory`] : []),
      ...(ph.refused.length ? [`placeholder paths not provided: ${ph.refused.map((x) => `${x.path} (${x.reason})`).join("; ")}`] : []),
      ...(this.init.placeholderNote ? [this.init.placeholderNote] : []),
    ];
    return { xendVersion: this.xendVersion, tree: t.origin.repo, commit: t.origin.commit, tz: this.init.tz, notes };
  }

  private check(): void {
    if (this.deadReason) throw new HarnessError("backend.unavailable", this.deadReason);
    if (this.closed) throw new HarnessError("backend.unavailable", "the sandbox backend is closed");
  }

  /** One raw control request (JSON). */
  async controlRaw(req: Record<string, unknown>, timeoutMs = CONTROL_TIMEOUT_MS): Promise<Record<string, unknown>> {
    this.check();
    const body = JSON.stringify(req);
    const res = await exchange(
      this.controlTarget,
      {
        method: "POST",
        path: "/control",
        headers: [
          ["Host", "localhost"],
          ["Content-Type", "application/json"],
          ["Content-Length", String(Buffer.byteLength(body, "utf8"))],
        ],
        body,
      },
      { timeoutMs },
    ).catch((e: unknown) => {
      throw this.deadReason ? new HarnessError("backend.unavailable", this.deadReason, { cause: e }) : e;
    });
    let out: Record<string, unknown>;
    try {
      out = JSON.parse(res.body) as Record<string, unknown>;
    } catch {
      throw new HarnessError("backend.protocol", `sandbox control channel answered ${res.status} with non-JSON: ${res.body.slice(0, 200)}`);
    }
    if (res.status !== 200) {
      throw new HarnessError("backend.protocol", `sandbox control '${String(req.kind)}' failed (${res.status}): ${String(out.detail ?? "")}`);
    }
    const ph = (out.placeholders ?? (out.info as { placeholders?: PlaceholderInfo } | undefined)?.placeholders) as PlaceholderInfo | undefined;
    if (ph && Array.isArray(ph.provided)) this.placeholders = ph;
    return out;
  }

  /** Send one request to xend (no session bookkeeping). */
  async exchangeXend(req: HttpRequest): Promise<HttpResponse> {
    this.check();
    try {
      return await exchange(this.xendTarget, req, { timeoutMs: this.init.timeoutMs });
    } catch (e) {
      if (this.deadReason) throw new HarnessError("backend.unavailable", this.deadReason, { cause: e });
      throw e;
    }
  }

  async open(cellId: string): Promise<SandboxSession> {
    this.check();
    const owner = Symbol(cellId);
    const defined = new Set<string>();
    let ended = false;
    const backend = this;
    const settle = async (): Promise<void> => {
      const r = await backend.controlRaw({ kind: "settle" });
      if (r.ok !== true) throw new HarnessError("backend.timeout", `sandbox: ${String(r.detail)}`);
    };
    return {
      async send(req: HttpRequest, _step: string): Promise<HttpResponse> {
        if (ended) throw new HarnessError("internal", `session ${cellId} already ended`);
        const names = domainNamesOf(req);
        for (const n of names.touched) await backend.locks.acquire(n, owner);
        const res = await backend.exchangeXend(req);
        if (req.method !== "GET") {
          for (const n of names.defined) defined.add(n);
          await settle();
          if (names.defined.length) await backend.controlRaw({ kind: "info" }).catch(() => undefined);
        }
        return res;
      },
      async control(step: ControlStep, _label: string): Promise<ControlReply> {
        if (ended) throw new HarnessError("internal", `session ${cellId} already ended`);
        await backend.locks.acquire(step.domain, owner);
        const payload: Record<string, unknown> = { kind: step.kind, domain: step.domain };
        if (step.kind === "guest-set-rtc") payload.delta = step.delta;
        const r = await backend.controlRaw(payload);
        const reply: ControlReply = { ok: r.ok === true };
        if (typeof r.detail === "string") reply.detail = r.detail;
        if (step.kind === "effective-clock" && r.clock) reply.clock = r.clock as EffectiveClock;
        return reply;
      },
      async configSxp(domain: string): Promise<string | null> {
        await backend.locks.acquire(domain, owner);
        const r = await backend.controlRaw({ kind: "config-sxp", domain });
        if (r.ok !== true) throw new HarnessError("backend.xend", `sandbox: ${String(r.detail)}`);
        return typeof r.text === "string" ? r.text : null;
      },
      controlRaw: (req) => backend.controlRaw(req),
      async end(): Promise<void> {
        if (ended) return;
        ended = true;
        try {
          if (backend.init.cleanupDomains && !backend.closed && !backend.deadReason) {
            for (const name of defined) {
              const p = `/xend/domain/${encodeURIComponent(name)}`;
              for (const op of ["destroy", "delete"]) {
                await backend.exchangeXend(libvirtPost(p, `op=${op}`)).catch(() => undefined);
              }
            }
            if (defined.size) await settle().catch(() => undefined);
          }
        } finally {
          backend.locks.release(owner);
        }
      },
    };
  }

  /** Stop the xend process (idempotent) and remove its state directory. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.init.proc.stop();
      if (!this.init.keepStateDir) {
        try {
          fs.rmSync(this.stateDir, { recursive: true, force: true });
        } catch {
          /* best effort */
        }
      }
    })();
    return this.closing;
  }
}

/** Wait until xend answers `GET /xend/node/` with 200, retrying until the deadline. */
export async function waitForXend(target: XendTarget, deadline: number, proc: SandboxProcess): Promise<void> {
  let last = "";
  for (;;) {
    if (!proc.alive) throw new HarnessError("backend.unavailable", `sandbox xend ${proc.describeExit()}${stderrTailText(proc)}`);
    try {
      const res = await exchange(target, libvirtGet("/xend/node/"), { timeoutMs: Math.max(1000, deadline - Date.now()) });
      // xend before 3.0.3 reports no xend_config_format; any (node ...) answer means it serves.
      if (res.status === 200 && /^\s*\(node\b/.test(res.body)) return;
      last = `status ${res.status}: ${res.body.slice(0, 200)}`;
    } catch (e) {
      last = isHarnessError(e) ? e.message : String(e);
    }
    if (Date.now() >= deadline)
      throw new HarnessError("backend.timeout", `sandbox xend did not answer GET /xend/node/ in time (${last})${stderrTailText(proc)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
