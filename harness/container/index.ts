/**
 * container: xend played inside a container (testcontainers), either the real xend of a Xen tree
 * (sandbox mode, image from harness/sandbox/Dockerfile) or the replay server over the shipped
 * recordings (replay mode, for machines without a Xen tree such as CI). The folder's only door.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HarnessError } from "../errors.js";
import { xendDir } from "../safepath.js";
import { defaultRecordingsDir, packageRoot } from "../xend/index.js";
import { ContainerBackend, type ContainerStarter } from "./backend.js";
import { ensureReplayImage } from "./images.js";
import { progressFromLog } from "./progress.js";
import { ensureSandboxImage, sandboxCommand } from "./sandbox-image.js";

export { ContainerBackend, runningContainers, startWithTestcontainers, defaultTestcontainersEnv, LOOPBACK } from "./backend.js";
export type { ContainerStarter, RunningContainer, ContainerRunSpec } from "./backend.js";
export { startReplayServer } from "./replay-server.js";
export type { ReplayServer, ReplayServerOptions } from "./replay-server.js";
export { ensureReplayImage, replayEntries, ensureBaseImage, baseImageTag, imageExists, productionModules, LABEL } from "./images.js";
export { makeProgress } from "./progress.js";
export type { Progress } from "./progress.js";
export * as protocol from "./protocol.js";

export interface ContainerBackendOptions {
  xendVersion: string;
  /** Default: `sandbox` when `xenSrc` is given, else `replay`. */
  mode?: "sandbox" | "replay";
  /** sandbox: the Xen source tree (only tools/python is used). */
  xenSrc?: string;
  /** replay: the recordings directory (default: the package's fixtures/recordings). */
  recordingsDir?: string;
  /** sandbox: POSIX TZ xend runs in. */
  tz?: string;
  /** Per-request deadline. */
  timeoutMs?: number;
  /** How long the container may take to answer GET /xend/node/ (default 60 s). */
  startupTimeoutMs?: number;
  concurrency?: number;
  log?: (line: string) => void;
  /** Show image build progress as one rewritten line (default: stderr is a TTY). */
  isTTY?: boolean;
  /** Replace how containers are started (tests). */
  starter?: ContainerStarter;
  /** The package root (default: found from this file). */
  root?: string;
  /** replay: the built project the image carries (tsc's outDir; default: ROOT/dist). */
  distDir?: string;
}

/** Why no container can run here, or undefined. Set by ci/containers.sh when no engine can run. */
export function noEngineReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.XEND_COMPAT_NO_ENGINE || undefined;
}

export async function startContainerBackend(o: ContainerBackendOptions): Promise<ContainerBackend> {
  const noEngine = noEngineReason();
  if (noEngine && !o.starter) throw new HarnessError("backend.unavailable", `the container backend cannot run here: ${noEngine}`);
  const mode = o.mode ?? (o.xenSrc ? "sandbox" : "replay");
  const root = o.root ?? packageRoot();
  const log = o.log ?? ((l: string) => process.stderr.write(l + "\n"));
  const progress = progressFromLog(o.log, o.isTTY ?? Boolean(process.stderr.isTTY && !o.log));
  const timeoutMs = o.timeoutMs ?? 30_000;
  const startupTimeoutMs = o.startupTimeoutMs ?? 60_000;

  if (mode === "replay") {
    const recordingsDir = path.resolve(o.recordingsDir ?? defaultRecordingsDir());
    const dir = xendDir(recordingsDir, o.xendVersion, "recordings");
    const n = fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".yaml")).length : 0;
    if (n === 0)
      throw new HarnessError(
        "backend.unavailable",
        `the container backend in replay mode needs recordings of xend ${o.xendVersion}, and ${dir} has none (give --xen-src for the real xend in a container)`,
      );
    const image = await ensureReplayImage({ root, xendVersion: o.xendVersion, recordingsDir, progress, ...(o.distDir ? { distDir: o.distDir } : {}) });
    const rel = path.relative(process.cwd(), recordingsDir);
    const shownDir = rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : recordingsDir;
    return ContainerBackend.start({
      xendVersion: o.xendVersion,
      mode,
      image,
      command: ["--xend", o.xendVersion, "--recordings", "/app/fixtures/recordings", "--shown-dir", shownDir],
      provenance: {
        xendVersion: o.xendVersion,
        tree: `recordings:${path.relative(root, recordingsDir) || recordingsDir}`,
        commit: "per recording",
        tz: "per recording",
        notes: [`replayed by the replay server in container image ${image}; each recording names the xend tree it came from`],
      },
      concurrency: o.concurrency ?? 8,
      timeoutMs,
      startupTimeoutMs,
      log,
      ...(o.starter ? { starter: o.starter } : {}),
    });
  }

  if (!o.xenSrc) throw new HarnessError("input.usage", "the container backend in sandbox mode needs a Xen source tree: --xen-src DIR");
  const built = await ensureSandboxImage({ root, xendVersion: o.xendVersion, xenSrc: o.xenSrc, progress });
  const tz = o.tz ?? "ORC-2";
  return ContainerBackend.start({
    xendVersion: o.xendVersion,
    mode,
    image: built.image,
    tree: built.tree,
    tz,
    ...(sandboxCommand(built) ? { command: sandboxCommand(built) } : {}),
    env: { TZ: tz },
    provenance: { ...built.provenance, tz, notes: [...(built.provenance.notes ?? []), `real xend in container image ${built.image}`] },
    concurrency: o.concurrency ?? 1,
    timeoutMs,
    startupTimeoutMs,
    log,
    ...(o.starter ? { starter: o.starter } : {}),
  });
}
