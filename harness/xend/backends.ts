/**
 * The backend factory: one place that turns a backend spec (from the CLI or the runner) into a
 * running Backend. `recorded` replays fixtures/recordings; `sandbox` starts the real xend from a Xen
 * source tree (harness/sandbox, loaded only when asked for); `container` and `live` come later.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { HarnessError } from "../errors.js";
import type { Backend, BackendKind } from "./types.js";
import { RecordedBackend } from "./recorded.js";

export interface BackendSpec {
  kind: BackendKind;
  xendVersion: string;
  /** recorded: the recordings directory (default: the package's fixtures/recordings). */
  recordingsDir?: string;
  /** sandbox/container: the Xen source tree (only tools/python is needed). */
  xenSrc?: string;
  /** live: `http://host:port` or `unix:///path`. */
  url?: string;
  /** Per-request deadline for backends that talk to a real xend. */
  timeoutMs?: number;
  /** live: how often a GET is retried after a transport fault (only GETs are retried). */
  retries?: number;
  /** live: the name prefix of every domain the harness defines (default `xc-`). */
  prefix?: string;
  /** live: the run id in every domain name on the wire (default random; one per run). */
  runId?: string;
  /** Override the backend's concurrency. */
  concurrency?: number;
  /** Time zone xend runs in (sandbox/container), e.g. `ORC-2`. */
  tz?: string;
  /** Where log lines go (sandbox/container). */
  log?: (line: string) => void;
}

/** The package root (the directory with xend-compat's package.json), found from this file. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = path.join(dir, "package.json");
    try {
      if (JSON.parse(fs.readFileSync(pj, "utf8")).name === "xend-compat") return dir;
    } catch {
      /* keep looking */
    }
    dir = path.dirname(dir);
  }
  return process.cwd();
}

/** Where recordings live by default. */
export function defaultRecordingsDir(): string {
  return path.join(packageRoot(), "fixtures", "recordings");
}

/** What harness/sandbox exports (written by another part of the project). */
interface SandboxModule {
  startSandbox(opts: {
    xenSrc: string;
    xendVersion: string;
    tz?: string;
    timeoutMs?: number;
    concurrency?: number;
    log?: (line: string) => void;
  }): Promise<Backend>;
}

/** What harness/container exports (the container backend). */
interface ContainerModule {
  startContainerBackend(opts: {
    xendVersion: string;
    xenSrc?: string;
    recordingsDir?: string;
    tz?: string;
    timeoutMs?: number;
    concurrency?: number;
    log?: (line: string) => void;
  }): Promise<Backend>;
}

/** What harness/live exports (the live backend). */
interface LiveModule {
  startLiveBackend(opts: { url: string; xendVersion?: string; prefix?: string; runId?: string; timeoutMs?: number; retries?: number; log?: (line: string) => void }): Promise<Backend>;
}

export async function createBackend(spec: BackendSpec): Promise<Backend> {
  switch (spec.kind) {
    case "recorded":
      return new RecordedBackend({
        dir: spec.recordingsDir ?? defaultRecordingsDir(),
        xendVersion: spec.xendVersion,
        ...(spec.concurrency !== undefined ? { concurrency: spec.concurrency } : {}),
      });
    case "sandbox": {
      if (!spec.xenSrc)
        throw new HarnessError("input.usage", "the sandbox backend needs a Xen source tree: --xen-src DIR (only tools/python is used)");
      // A variable specifier keeps the sandbox (and its Python side) out of every other path.
      const where = "../sandbox/index.js";
      let mod: SandboxModule;
      try {
        mod = (await import(where)) as SandboxModule;
      } catch (e) {
        throw new HarnessError("backend.unavailable", `the sandbox backend cannot be loaded: ${(e as Error).message}`, { cause: e });
      }
      if (typeof mod.startSandbox !== "function")
        throw new HarnessError("backend.unavailable", "the sandbox backend is not available in this build (harness/sandbox has no startSandbox)");
      return mod.startSandbox({
        xenSrc: spec.xenSrc,
        xendVersion: spec.xendVersion,
        ...(spec.tz !== undefined ? { tz: spec.tz } : {}),
        ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
        ...(spec.concurrency !== undefined ? { concurrency: spec.concurrency } : {}),
        ...(spec.log ? { log: spec.log } : {}),
      });
    }
    case "container": {
      // The real xend of --xen-src in a container (sandbox mode), else the replay server over the
      // recordings (replay mode). Loaded only when asked for (testcontainers stays out of other paths).
      const where = "../container/index.js";
      const mod = (await import(where)) as ContainerModule;
      return mod.startContainerBackend({
        xendVersion: spec.xendVersion,
        ...(spec.xenSrc ? { xenSrc: spec.xenSrc } : {}),
        ...(spec.recordingsDir ? { recordingsDir: spec.recordingsDir } : {}),
        ...(spec.tz !== undefined ? { tz: spec.tz } : {}),
        ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
        ...(spec.concurrency !== undefined ? { concurrency: spec.concurrency } : {}),
        ...(spec.log ? { log: spec.log } : {}),
      });
    }
    case "live": {
      if (!spec.url) throw new HarnessError("input.usage", "the live backend needs --url (http://host:port or unix:///path)");
      const where = "../live/index.js";
      const mod = (await import(where)) as LiveModule;
      return mod.startLiveBackend({
        url: spec.url,
        xendVersion: spec.xendVersion,
        ...(spec.prefix !== undefined ? { prefix: spec.prefix } : {}),
        ...(spec.runId !== undefined ? { runId: spec.runId } : {}),
        ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
        ...(spec.retries !== undefined ? { retries: spec.retries } : {}),
        ...(spec.log ? { log: spec.log } : {}),
      });
    }
    default:
      throw new HarnessError("input.usage", `unknown backend '${(spec as { kind: string }).kind}' (expected recorded, sandbox, container or live)`);
  }
}
