/**
 * The container backend: xend played inside a container started with testcontainers, reached only
 * through getHost()/getMappedPort(). One container per xend version, shared by that version's cells;
 * stopped at close(), when starting fails, and on SIGINT/SIGTERM of this process (a synchronous
 * `docker rm -f` on exit is the last safety net).
 *
 * Modes:
 * - `replay`: the replay image (./replay-server.ts over the shipped recordings). Each cell is
 *   announced on the control channel (open-cell), its xend requests carry the session header.
 * - `sandbox`: the real xend of a Xen tree in the image built from harness/sandbox/Dockerfile, with
 *   the sandbox's own control channel (POST /control, harness/sandbox/py/control.py).
 */
import { execFileSync } from "node:child_process";
import * as http from "node:http";
import { HarnessError, isHarnessError } from "../errors.js";
import { onStopSignal } from "../signals.js";
import { exchange, type XendTarget } from "../xend/index.js";
import type { Backend, BackendSession, ControlReply, ControlStep, HttpRequest, HttpResponse, Provenance } from "../xend/index.js";
import { CONTROL_PATH, CONTROL_PORT, ERROR_HEADER, REPLAY_ERROR_STATUS, SESSION_HEADER, STEP_HEADER, XEND_PORT } from "./protocol.js";
import { LABEL } from "./images.js";

/**
 * The label naming the run that started a container: `org.xend-compat.run=<XEND_COMPAT_RUN_ID>`
 * when that variable is set (ci/containers.sh sets it), so that a clean-up removes exactly the
 * containers of its own run and never a user's (testcontainers' own labels are on every
 * testcontainers container of the machine, the user's included).
 */
export function runLabel(env: NodeJS.ProcessEnv): Record<string, string> {
  const id = env.XEND_COMPAT_RUN_ID;
  return id && /^[A-Za-z0-9_.-]{1,64}$/.test(id) ? { [`${LABEL}.run`]: id } : {};
}
import { SandboxBackend, type XenTree } from "../sandbox/index.js";

type SandboxInit = ConstructorParameters<typeof SandboxBackend>[0];

/** What the backend needs of a started container (testcontainers' StartedTestContainer fits). */
export interface RunningContainer {
  getId(): string;
  getHost(): string;
  getMappedPort(port: number): number;
  stop(opts?: { timeout?: number }): Promise<unknown>;
}

export interface ContainerRunSpec {
  image: string;
  command?: string[];
  env?: Record<string, string>;
  labels: Record<string, string>;
  /** Keep the container's stdin open (the sandbox's Python stays up while its stdin is open). */
  openStdin?: boolean;
  /** tmpfs mounts (path → options), e.g. to hide the host's PCI devices from xend. */
  tmpfs?: Record<string, string>;
  /** Where the container's own output lines go (default: `log`). */
  output?: (line: string) => void;
  /** The container's host name (xend reports it in GET /xend/node/); default: docker's (the container id). */
  hostname?: string;
  /** A log line that says the service is ready (the wait fails at once when the container exits first). */
  readyLine?: string;
  /** Wait for xend to answer GET /xend/node/ with 200 (default true; needs readyLine when false). */
  probeXend?: boolean;
  startupTimeoutMs: number;
  log: (line: string) => void;
}

/** Starts a container; replaceable in tests. The default uses testcontainers' GenericContainer. */
export type ContainerStarter = (spec: ContainerRunSpec) => Promise<RunningContainer>;

export function defaultTestcontainersEnv(env: NodeJS.ProcessEnv = process.env): void {
  // No registry here: Ryuk's image cannot be pulled, and /.dockerenv makes host detection pull alpine.
  // This backend stops its own containers (close, failure, signals, exit), so Ryuk is not needed.
  env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
  if (!env.DOCKER_HOST || env.DOCKER_HOST.startsWith("unix://")) env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";
}

/**
 * testcontainers is an optional dependency: only the container backend needs it, and only when it
 * starts a container. Without it, that backend is unavailable with a clear reason.
 */
async function loadTestcontainers(): Promise<typeof import("testcontainers")> {
  try {
    return await import("testcontainers");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw e;
    throw new HarnessError("backend.unavailable", "the container backend needs the optional package testcontainers (npm install testcontainers@11.14.0), which is not installed");
  }
}

/** The only host address the published ports are bound to. */
export const LOOPBACK = "127.0.0.1";

export const startWithTestcontainers: ContainerStarter = async (spec) => {
  defaultTestcontainersEnv();
  const { GenericContainer, Wait } = await loadTestcontainers();
  class Container extends GenericContainer {
    keepStdinOpen(): this {
      this.createOpts.OpenStdin = true;
      this.createOpts.StdinOnce = false;
      return this;
    }
    /** Publish every exposed port on the host's loopback only (xend and the control channel are unauthenticated). */
    onLoopbackOnly(): this {
      const bindings = (this.hostConfig.PortBindings ?? {}) as Record<string, Array<{ HostIp?: string; HostPort?: string }>>;
      for (const key of Object.keys(bindings)) bindings[key] = bindings[key].map((b) => ({ ...b, HostIp: LOOPBACK }));
      this.hostConfig.PortBindings = bindings;
      return this;
    }
  }
  let c = new Container(spec.image)
    .withExposedPorts(XEND_PORT, CONTROL_PORT)
    .onLoopbackOnly()
    .withLabels({ ...spec.labels, ...runLabel(process.env) })
    .withEnvironment(spec.env ?? {})
    // Scratch images have no shell: probe xend's own HTTP, never forListeningPorts.
    .withWaitStrategy(
      spec.probeXend === false && spec.readyLine
        ? Wait.forLogMessage(spec.readyLine)
        : spec.readyLine
          ? Wait.forAll([Wait.forLogMessage(spec.readyLine), Wait.forHttp("/xend/node/", XEND_PORT).forStatusCode(200)])
          : Wait.forHttp("/xend/node/", XEND_PORT).forStatusCode(200),
    )
    .withStartupTimeout(spec.startupTimeoutMs)
    .withLogConsumer((stream) => {
      stream.on("data", (d: Buffer | string) => {
        for (const l of String(d).split("\n")) if (l.trim()) (spec.output ?? spec.log)(l);
      });
    });
  if (spec.command) c = c.withCommand(spec.command);
  if (spec.openStdin) c = c.keepStdinOpen();
  if (spec.tmpfs) c = c.withTmpFs(spec.tmpfs);
  if (spec.hostname) c = c.withHostname(spec.hostname);
  return c.start();
};

// ---- process-wide safety net -------------------------------------------------------------
// SIGINT/SIGTERM: the process's one signal policy (harness/signals.ts): stop the containers (within
// a deadline), then the process ends by the signal. Exit: a synchronous `docker rm -f` of any left.
const running = new Map<string, RunningContainer>();
let unregisterSignals: (() => void) | undefined;
const STOP_DEADLINE_MS = 15_000;

async function onSignal(): Promise<void> {
  const all = [...running.values()];
  const stopped = Promise.allSettled(all.map(async (c) => (await c.stop({ timeout: 2 }), running.delete(c.getId()))));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise((r) => (timer = setTimeout(r, STOP_DEADLINE_MS)));
  await Promise.race([stopped, deadline]);
  clearTimeout(timer);
  // What did not stop in time: `docker rm -f` now (ending by the signal runs no exit handler).
  onExit();
  running.clear();
  uninstall();
}
function onExit(): void {
  for (const id of running.keys()) {
    try {
      execFileSync("docker", ["rm", "-f", id], { stdio: "ignore", timeout: 10_000 });
    } catch {
      /* best effort */
    }
  }
}
function track(c: RunningContainer): void {
  running.set(c.getId(), c);
  if (!unregisterSignals) {
    unregisterSignals = onStopSignal({ name: "containers", cleanup: onSignal });
    process.on("exit", onExit);
  }
}
function untrack(c: RunningContainer): void {
  running.delete(c.getId());
  if (running.size === 0) uninstall();
}
function uninstall(): void {
  if (!unregisterSignals) return;
  unregisterSignals();
  unregisterSignals = undefined;
  process.removeListener("exit", onExit);
}
/** For tests: how many containers this process is responsible for right now. */
export function runningContainers(): number {
  return running.size;
}

// ---- control channel ---------------------------------------------------------------------
function postJson(host: string, port: number, obj: unknown, timeoutMs: number): Promise<Record<string, unknown>> {
  const body = JSON.stringify(obj);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, path: CONTROL_PATH, method: "POST", headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) }, timeout: timeoutMs },
      (res) => {
        let raw = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (raw += c));
        res.on("end", () => {
          try {
            resolve(JSON.parse(raw) as Record<string, unknown>);
          } catch {
            reject(new HarnessError("backend.protocol", `control channel at ${host}:${port}: HTTP ${res.statusCode} with a body that is not JSON: ${raw.slice(0, 200)}`));
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new HarnessError("backend.timeout", `control channel at ${host}:${port}: no answer within ${timeoutMs} ms`)));
    req.on("error", (e) =>
      reject(isHarnessError(e) ? e : new HarnessError("backend.connect", `control channel at ${host}:${port}: ${e.message}`, { cause: e })),
    );
    req.end(body);
  });
}

function controlFailure(r: Record<string, unknown>, what: string): HarnessError {
  const code = typeof r.code === "string" ? r.code : "backend.unavailable";
  const detail = typeof r.detail === "string" ? r.detail : JSON.stringify(r);
  return new HarnessError(code as never, code === "backend.unavailable" || code === "internal" ? `${what}: ${detail}` : detail);
}

// ---- sessions ----------------------------------------------------------------------------
interface Endpoints {
  xend: XendTarget & { kind: "tcp" };
  controlHost: string;
  controlPort: number;
  timeoutMs: number;
}

class ContainerSession implements BackendSession {
  constructor(
    private readonly ep: Endpoints,
    private readonly mode: "replay" | "sandbox",
    private readonly session: string | undefined,
  ) {}

  async send(req: HttpRequest, step: string): Promise<HttpResponse> {
    const headers = req.headers.map(([k, v]) => [k, v] as [string, string]);
    if (this.mode === "replay" && this.session) headers.push([SESSION_HEADER, this.session], [STEP_HEADER, encodeURIComponent(step)]);
    const res = await exchange(this.ep.xend, { ...req, headers }, { timeoutMs: this.ep.timeoutMs });
    if (this.mode === "replay" && res.status === REPLAY_ERROR_STATUS) {
      const code = res.headers.find(([k]) => k.toLowerCase() === ERROR_HEADER.toLowerCase())?.[1];
      if (code) throw new HarnessError(code as never, res.body);
    }
    return res;
  }

  async control(step: ControlStep, stepLabel: string): Promise<ControlReply> {
    const r = await postJson(this.ep.controlHost, this.ep.controlPort, { ...step, step: stepLabel, ...(this.session ? { session: this.session } : {}) }, this.ep.timeoutMs);
    if (typeof r.code === "string") throw controlFailure(r, `control step ${step.kind}`);
    const reply: ControlReply = { ok: r.ok === true };
    if (r.clock && typeof r.clock === "object") reply.clock = r.clock as ControlReply["clock"];
    if (typeof r.detail === "string") reply.detail = r.detail;
    return reply;
  }

  async end(): Promise<void> {
    if (this.mode !== "replay" || !this.session) return;
    const r = await postJson(this.ep.controlHost, this.ep.controlPort, { kind: "end-cell", session: this.session }, this.ep.timeoutMs);
    if (r.ok !== true) throw controlFailure(r, "end of cell");
  }
}

export interface ContainerBackendInit {
  xendVersion: string;
  mode: "replay" | "sandbox";
  /** sandbox mode: the Xen tree the image was built from. */
  tree?: XenTree;
  tz?: string;
  image: string;
  command?: string[];
  env?: Record<string, string>;
  provenance: Provenance;
  concurrency: number;
  timeoutMs: number;
  startupTimeoutMs: number;
  log: (line: string) => void;
  starter?: ContainerStarter;
}

export class ContainerBackend implements Backend {
  readonly kind = "container" as const;
  readonly xendVersion: string;
  readonly concurrency: number;
  readonly guestControl = true;
  readonly mode: "replay" | "sandbox";
  /** Replay mode plays recordings, not a real xend: the run counts its cells as replayed (in a container). */
  readonly replays: boolean;
  readonly image: string;
  private container: RunningContainer | undefined;
  private ep: Endpoints | undefined;
  /** The last lines the container wrote. */
  readonly outputTail: string[] = [];
  /** The container's last output lines, for error messages. */
  tail(): string {
    return this.outputTail.length ? `\n--- container output (last lines) ---\n${this.outputTail.slice(-15).join("\n")}` : "";
  }
  /** sandbox mode: the sandbox's own backend logic (name locks, settle, domain cleanup) over the mapped ports. */
  private sandbox: SandboxBackend | undefined;
  private closing: Promise<void> | undefined;

  private constructor(private readonly init: ContainerBackendInit) {
    this.xendVersion = init.xendVersion;
    this.concurrency = init.concurrency;
    this.mode = init.mode;
    this.replays = init.mode === "replay";
    this.image = init.image;
  }

  /** Start the container and wait until xend answers `GET /xend/node/`. */
  static async start(init: ContainerBackendInit): Promise<ContainerBackend> {
    const b = new ContainerBackend(init);
    const starter = init.starter ?? startWithTestcontainers;
    const t0 = Date.now();
    init.log(`[container] starting ${init.image} (xend ${init.xendVersion}, ${init.mode})`);
    // The container's own output: kept (the last lines go into error messages), shown live only with
    // XEND_COMPAT_DEBUG (xend 3.2 prints a traceback for every client that closes early).
    const verbose = Boolean(process.env.XEND_COMPAT_DEBUG);
    const output = (l: string) => {
      b.outputTail.push(l);
      if (b.outputTail.length > 40) b.outputTail.shift();
      if (verbose) init.log(`[container] ${l}`);
    };
    let c: RunningContainer;
    try {
      c = await starter({
        output,
        image: init.image,
        ...(init.command ? { command: init.command } : {}),
        ...(init.env ? { env: init.env } : {}),
        labels: { [LABEL]: "true", [`${LABEL}.xend`]: init.xendVersion, [`${LABEL}.mode`]: init.mode },
        openStdin: init.mode === "sandbox",
        readyLine: "XEND-COMPAT-READY",
        // A stable name, so recordings made through this backend do not change with every container id.
        hostname: "xend-compat",
        // xend enumerates the host's PCI devices through sysfs, whose config space a container cannot read.
        ...(init.mode === "sandbox" ? { tmpfs: { "/sys/bus/pci/devices": "rw,size=64k" } } : {}),
        startupTimeoutMs: init.startupTimeoutMs,
        log: init.log,
      });
    } catch (e) {
      throw new HarnessError(
        "backend.unavailable",
        `container ${init.image} for xend ${init.xendVersion} did not start: ${e instanceof Error ? e.message : String(e)}${b.tail()}`,
        { cause: e },
      );
    }
    track(c);
    b.container = c;
    const host = c.getHost();
    b.ep = {
      xend: { kind: "tcp", host, port: c.getMappedPort(XEND_PORT) },
      controlHost: host,
      controlPort: c.getMappedPort(CONTROL_PORT),
      timeoutMs: init.timeoutMs,
    };
    if (init.mode === "sandbox") {
      try {
        b.sandbox = await b.attachSandbox(Date.now() - t0);
      } catch (e) {
        await b.close().catch(() => undefined);
        throw new HarnessError("backend.unavailable", `sandbox in container ${init.image}: ${e instanceof Error ? e.message : String(e)}${b.tail()}`, { cause: e });
      }
    }
    init.log(
      `[container] started ${c.getId().slice(0, 12)} (${init.image}) in ${Date.now() - t0} ms: xend at ${host}:${b.ep.xend.port}, control at ${host}:${b.ep.controlPort}`,
    );
    return b;
  }

  /** Build the sandbox backend logic around the container: its ready info comes from control `info`. */
  private async attachSandbox(startupMs: number): Promise<SandboxBackend> {
    const ep = this.ep!;
    const tree = this.init.tree;
    if (!tree) throw new HarnessError("internal", "container backend in sandbox mode without a tree");
    const r = await postJson(ep.controlHost, ep.controlPort, { kind: "info" }, ep.timeoutMs);
    const info = (r.info ?? {}) as Record<string, unknown>;
    if (r.ok !== true) throw controlFailure(r, "sandbox info");
    // The container stands in for the local Python process: it is stopped by close(), not by the sandbox.
    const proc = {
      alive: true,
      onUnexpectedExit: undefined,
      stop: async () => {},
      killSync: () => {},
      tail: () => "",
      describeExit: () => "running in a container",
    } as unknown as SandboxInit["proc"];
    const ready = {
      ...info,
      xend: ep.xend,
      control: { kind: "tcp", host: ep.controlHost, port: ep.controlPort },
    } as unknown as SandboxInit["ready"];
    return new SandboxBackend({
      xendVersion: this.xendVersion,
      tree,
      proc,
      ready,
      python: { path: "/usr/local/bin/python2.7 (in the container)", version: String(info.python ?? "2.7") },
      tz: this.init.tz ?? String(info.tz ?? ""),
      concurrency: this.concurrency,
      timeoutMs: ep.timeoutMs,
      startupMs,
      keepStateDir: true,
      cleanupDomains: true,
      log: this.init.log,
    });
  }

  /** Where xend answers (the mapped port on the host). */
  target(): XendTarget {
    if (!this.ep) throw new HarnessError("backend.unavailable", "the container backend is closed");
    return this.ep.xend;
  }

  containerId(): string | undefined {
    return this.container?.getId();
  }

  provenance(): Provenance {
    return this.init.provenance;
  }

  async open(cellId: string): Promise<BackendSession> {
    const ep = this.ep;
    if (!ep || this.closing) throw new HarnessError("backend.unavailable", `container backend for xend ${this.xendVersion} is closed`);
    if (this.mode === "sandbox") {
      if (!this.sandbox) throw new HarnessError("backend.unavailable", "the sandbox in the container is not attached");
      return this.sandbox.open(cellId);
    }
    const r = await postJson(ep.controlHost, ep.controlPort, { kind: "open-cell", cell: cellId }, ep.timeoutMs);
    if (r.ok !== true || typeof r.session !== "string") throw controlFailure(r, `opening ${cellId}`);
    return new ContainerSession(ep, "replay", r.session);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const c = this.container;
      this.ep = undefined;
      await this.sandbox?.close().catch(() => undefined);
      if (!c) return;
      const t0 = Date.now();
      try {
        await c.stop({ timeout: 5 });
      } finally {
        untrack(c);
        this.container = undefined;
      }
      this.init.log(`[container] stopped ${c.getId().slice(0, 12)} (${this.image}) in ${Date.now() - t0} ms`);
    })();
    return this.closing;
  }
}
