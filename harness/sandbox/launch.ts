/**
 * Starting and stopping the sandbox's Python process (harness/sandbox/py/sandbox_main.py), and the
 * process-wide safety net: whatever happens (close, failure, the Python process dying, SIGINT or
 * SIGTERM to this process, this process exiting), the Python process is stopped.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { HarnessError } from "../errors.js";
import { onStopSignal } from "../signals.js";
import type { XendTarget } from "../xend/index.js";

/** What sandbox_main.py prints once xend and the control channel listen. */
export interface ReadyInfo {
  xend: XendTarget;
  control: XendTarget;
  python: string;
  family: string;
  /** What the fakes learnt from the tree (tree_needs.describe). */
  needs?: string;
  tree: string;
  tz: string;
  hostUtcOffset: number;
  placeholders: PlaceholderInfo;
  generatedModules: string[];
  stateDir: string;
  /** What sandbox_main.py mounted private for xend before it started (/run, /tmp; empty outside a private mount namespace). */
  privateMounts?: string[];
  pid: number;
}

export interface PlaceholderInfo {
  mode: "namespace" | "direct" | "none";
  provided: string[];
  refused: { path: string; reason: string }[];
  overlays: string[];
  existing: string[];
}

export interface LaunchOptions {
  python: string;
  pythonDir: string;
  family?: string;
  stateDir: string;
  tz: string;
  listen: "tcp" | "unix";
  host: string;
  placeholders: "namespace" | "direct" | "none";
  unshare?: string;
  extraPlaceholders: string[];
  startTimeoutMs: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/**
 * harness/sandbox/py: beside this file when run from source (tsx, vitest), or in the package's
 * source tree when run from the compiled dist/harness/sandbox/ (tsc does not copy .py files).
 */
export const PY_DIR = findPyDir(path.dirname(fileURLToPath(import.meta.url)));

function findPyDir(here: string): string {
  const beside = path.join(here, "py");
  if (fs.existsSync(path.join(beside, "sandbox_main.py"))) return beside;
  let dir = here;
  for (let i = 0; i < 6; i++) {
    const cand = path.join(dir, "harness", "sandbox", "py");
    if (fs.existsSync(path.join(cand, "sandbox_main.py"))) return cand;
    dir = path.dirname(dir);
  }
  return beside;
}
const STDERR_TAIL_BYTES = 6000;

/** A running sandbox process. */
export class SandboxProcess {
  readonly child: ChildProcess;
  private stderrTail = "";
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private exitWaiters: (() => void)[] = [];
  private stopping = false;
  onUnexpectedExit?: (why: string) => void;
  /** Synchronous clean-up (the state directory) for when this Node process is going away. */
  cleanupSync?: () => void;

  constructor(child: ChildProcess, log?: (line: string) => void) {
    this.child = child;
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
      if (log) for (const l of chunk.split("\n")) if (l.trim()) log(`[sandbox python] ${l}`);
    });
    child.on("exit", (code, signal) => {
      this.exited = { code, signal };
      untrack(this);
      for (const w of this.exitWaiters.splice(0)) w();
      if (!this.stopping) this.onUnexpectedExit?.(this.describeExit());
    });
    track(this);
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  /** The last lines Python wrote to stderr (for error messages). */
  tail(lines = 25): string {
    return this.stderrTail.split("\n").slice(-lines).join("\n").trim();
  }

  describeExit(): string {
    if (!this.exited) return "running";
    return this.exited.signal ? `killed by ${this.exited.signal}` : `exited with code ${this.exited.code}`;
  }

  private waitExit(ms: number): Promise<boolean> {
    if (!this.alive) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.exitWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** Stop the process: close its stdin, SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    if (!this.alive) return;
    try {
      this.child.stdin?.end();
    } catch {
      /* already closed */
    }
    this.killSync("SIGTERM");
    if (await this.waitExit(graceMs)) return;
    this.killSync("SIGKILL");
    await this.waitExit(graceMs);
  }

  killSync(sig: NodeJS.Signals): void {
    this.stopping = true;
    if (this.alive && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, sig);
      } catch {
        /* gone */
      }
    }
  }
}

// ---- process-wide safety net -------------------------------------------------------------
// SIGINT/SIGTERM: the process's one signal policy (harness/signals.ts): stop the Python processes,
// remove their state, then the process ends by the signal. Exit: the same, synchronously.
const live = new Set<SandboxProcess>();
let unregisterSignals: (() => void) | undefined;

function cleanupAll(): void {
  for (const p of [...live]) {
    try {
      p.cleanupSync?.();
    } catch {
      /* best effort */
    }
  }
}
function onSignal(): void {
  for (const p of [...live]) p.killSync("SIGTERM");
  cleanupAll();
  uninstall();
}
function onExit(): void {
  for (const p of [...live]) p.killSync("SIGKILL");
  cleanupAll();
}

function install(): void {
  if (unregisterSignals) return;
  unregisterSignals = onStopSignal({ name: "sandbox", cleanup: onSignal });
  process.on("exit", onExit);
}
function uninstall(): void {
  if (!unregisterSignals) return;
  unregisterSignals();
  unregisterSignals = undefined;
  process.removeListener("exit", onExit);
}
function track(p: SandboxProcess): void {
  live.add(p);
  install();
}
function untrack(p: SandboxProcess): void {
  live.delete(p);
  if (live.size === 0) uninstall();
}

/** For tests: are process signal handlers installed for the sandbox right now? */
export function signalHandlersInstalled(): boolean {
  return unregisterSignals !== undefined;
}

// ---- launching ---------------------------------------------------------------------------
/** Set (to 1) by the sandbox image's Dockerfile: the only place placeholders `direct` may write. */
export const IN_CONTAINER_ENV = "XEND_COMPAT_IN_CONTAINER";

/** Why placeholder mode `o.placeholders` must not run here, or undefined. */
export function placeholderModeRefusal(o: Pick<LaunchOptions, "placeholders" | "unshare">, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (o.placeholders === "namespace" && !o.unshare)
    return "sandbox: placeholders 'namespace' needs a private mount namespace, and no unshare was given to create one (it would mount overlays on this host's /usr, /var, /boot): run as root with util-linux's unshare installed, or use placeholders 'none'";
  if (o.placeholders === "direct" && env[IN_CONTAINER_ENV] !== "1")
    return `sandbox: placeholders 'direct' creates files at host paths; it is only allowed inside the sandbox container image (${IN_CONTAINER_ENV}=1, set by its Dockerfile): use 'namespace' or 'none'`;
  return undefined;
}

export async function launch(o: LaunchOptions): Promise<{ proc: SandboxProcess; ready: ReadyInfo }> {
  const refusal = placeholderModeRefusal(o);
  if (refusal) throw new HarnessError("backend.unavailable", refusal);
  const args = [
    "-u",
    path.join(PY_DIR, "sandbox_main.py"),
    "--tree",
    o.pythonDir,
    "--state-dir",
    o.stateDir,
    "--listen",
    o.listen,
    "--host",
    o.host,
    "--placeholders",
    o.placeholders,
    ...(o.family ? ["--family", o.family] : []),
    ...o.extraPlaceholders.flatMap((p) => ["--placeholder", p]),
  ];
  const cmd = o.placeholders === "namespace" ? o.unshare! : o.python;
  const argv = cmd === o.python ? args : ["--mount", "--propagation", "private", "--", o.python, ...args];
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: o.tz, PYTHONDONTWRITEBYTECODE: "1", PYENV_VERSION: "2.7.18" };
  delete env.XEND_CONFIG;
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  o.log?.(`[sandbox] ${cmd} ${argv.join(" ")}`);
  const child = spawn(cmd, argv, { env, cwd: o.stateDir, stdio: ["pipe", "pipe", "pipe"] });
  const proc = new SandboxProcess(child, o.log);

  const ready = await new Promise<ReadyInfo>((resolve, reject) => {
    let buf = "";
    let done = false;
    const finish = (err: Error | undefined, info?: ReadyInfo) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
      child.stdout?.removeListener("data", onData);
      child.removeListener("exit", onEarlyExit);
      child.removeListener("error", onError);
      if (err) reject(err);
      else resolve(info!);
    };
    const failure = (what: string) =>
      new HarnessError("backend.unavailable", `sandbox xend did not start: ${what}${tailText(proc)}`);
    const onData = (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line.startsWith("XEND-COMPAT-READY ")) {
          try {
            finish(undefined, JSON.parse(line.slice(18)) as ReadyInfo);
          } catch (e) {
            finish(failure(`unreadable ready line (${(e as Error).message})`));
          }
          return;
        }
        if (line.startsWith("XEND-COMPAT-FAILED ")) {
          let msg = line.slice(19);
          try {
            const j = JSON.parse(msg) as { error?: string; trace?: string };
            msg = j.error ?? msg;
            if (j.trace) o.log?.(`[sandbox] ${j.trace}`);
            if (j.trace) msg += `\n${j.trace.trim().split("\n").slice(-6).join("\n")}`;
          } catch {
            /* keep raw */
          }
          finish(failure(msg));
          return;
        }
        if (line) o.log?.(`[sandbox stdout] ${line}`);
      }
    };
    const onEarlyExit = () => finish(failure(`python ${proc.describeExit()} before it was ready`));
    const onError = (e: Error) => finish(failure(`cannot run ${cmd}: ${e.message}`));
    const onAbort = () => finish(new HarnessError("backend.unavailable", "sandbox start aborted"));
    const timer = setTimeout(() => finish(failure(`no ready line within ${o.startTimeoutMs} ms`)), o.startTimeoutMs);
    child.stdout?.on("data", onData);
    child.once("exit", onEarlyExit);
    child.once("error", onError);
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener("abort", onAbort, { once: true });
  }).catch(async (e) => {
    await proc.stop();
    throw e;
  });
  // Keep draining stdout so the pipe never fills.
  child.stdout?.on("data", () => {});
  return { proc, ready };
}

function tailText(p: SandboxProcess): string {
  const t = p.tail();
  return t ? `\n--- python stderr (last lines) ---\n${t}` : "";
}
export { tailText as stderrTailText };

/** A fresh state directory for one sandbox (xend's domains, logs, sockets). */
export function makeStateDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "xend-compat-sandbox-"));
}
