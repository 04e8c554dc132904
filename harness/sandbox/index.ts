/**
 * sandbox: the real xend of a Xen source tree (its tools/python), run under Python 2.7 with this
 * project's fake hypervisor and xenstore (harness/sandbox/py), on loopback or a unix socket.
 * The folder's only door. See harness/sandbox/README.md.
 */
import * as fs from "node:fs";
import { HarnessError } from "../errors.js";
import { SandboxBackend, waitForXend } from "./backend.js";
import { XEND_SERIES, xenSrcEnvName } from "../xend/index.js";
import { launch, makeStateDir } from "./launch.js";
import { findPython2, privateMountNamespace } from "./python.js";
import { checkTreeSeries, openTree, type TreeOrigin } from "./tree.js";

export { SandboxBackend, domainNamesOf } from "./backend.js";
export type { SandboxSession } from "./backend.js";
export { openTree, findPythonDir, familyOfTree, familyOfVersion, seriesRangeOfTree, compareSeries, checkTreeSeries, parseOriginFile, ORIGIN_FILE } from "./tree.js";
export type { XenTree, TreeOrigin, XendFamily } from "./tree.js";
export { findPython2, privateMountNamespace } from "./python.js";
export { signalHandlersInstalled, PY_DIR, launch, placeholderModeRefusal, IN_CONTAINER_ENV } from "./launch.js";
export { prepareDockerContext, DOCKERFILE } from "./docker.js";
export type { DockerContext } from "./docker.js";
export type { ReadyInfo, PlaceholderInfo } from "./launch.js";

/** The environment variables that name Xen trees, by xend version (one per xend series, harness/xend/series.ts). */
export const XEN_SRC_ENV: Readonly<Record<string, string>> = Object.fromEntries(XEND_SERIES.map((s) => [s.version, xenSrcEnvName(s.version)]));

export const DEFAULT_TZ = "ORC-2";

export interface SandboxOptions {
  /** A Xen source tree, or a directory holding an extracted `tools/python`. */
  xenSrc: string;
  /** The xend version this tree plays, e.g. `4.1.2`; must match the tree's xend generation. */
  xendVersion: string;
  /** Python 2.7 interpreter (default: XEND_COMPAT_PYTHON, pyenv 2.7.18, python2.7 on PATH). */
  python?: string;
  /** POSIX TZ for xend (default `ORC-2`: UTC+2, no DST). */
  tz?: string;
  /** Where xend and the control channel listen: loopback TCP (default) or unix sockets. */
  listen?: "tcp" | "unix";
  /** Where the tree came from, when no origin file or git work tree says it. */
  origin?: TreeOrigin;
  /** Abort the start. */
  signal?: AbortSignal;
  /** Deadline per HTTP exchange with xend (default 30 s). */
  timeoutMs?: number;
  /** Deadline for the start (default 30 s). */
  startTimeoutMs?: number;
  /** Cells served at once (default 4). */
  concurrency?: number;
  /**
   * Placeholder files for the kernel/loader/device-model paths a config names (4.1 checks them):
   * `auto` (default) = a private mount namespace when root with unshare, else `none`. `namespace`
   * without one and `direct` outside the sandbox image (XEND_COMPAT_IN_CONTAINER=1) are refused:
   * both would write the host's directories.
   */
  placeholders?: "auto" | "namespace" | "direct" | "none";
  /** More placeholder paths to provide at start. */
  extraPlaceholders?: string[];
  /** Keep the state directory (xend.log, config.sxp files) after close. */
  keepStateDir?: boolean;
  /** Destroy and delete the domains a session defined when it ends (default true). */
  cleanupDomains?: boolean;
  log?: (line: string) => void;
}

/** Start one xend for `opts.xendVersion`; resolves once xend answers `GET /xend/node/`. */
export async function startSandbox(opts: SandboxOptions): Promise<SandboxBackend> {
  const t0 = Date.now();
  const tree = openTree(opts.xenSrc, opts.origin);
  checkTreeSeries(tree, opts.xendVersion);
  const python = findPython2(opts.python);
  const tz = opts.tz ?? DEFAULT_TZ;
  if (!/^[A-Za-z0-9:+\-,./<>_]+$/.test(tz)) throw new HarnessError("input.usage", `bad TZ '${tz}'`);

  let mode = opts.placeholders ?? "auto";
  let unshare: string | undefined;
  let placeholderNote: string | undefined;
  if (mode === "auto" || mode === "namespace") {
    const ns = privateMountNamespace();
    if (ns.ok) {
      unshare = ns.unshare;
      mode = "namespace";
    } else if (mode === "namespace") {
      throw new HarnessError("backend.unavailable", `sandbox: no private mount namespace: ${ns.why}`);
    } else {
      mode = "none";
      placeholderNote = `no placeholder files: ${ns.why}; 4.1.x rejects HVM configs whose loader/device model do not exist on this host`;
    }
  }

  const stateDir = makeStateDir();
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  const deadline = t0 + startTimeoutMs;
  let proc;
  try {
    const launched = await launch({
      python: python.path,
      pythonDir: tree.pythonDir,
      family: tree.family,
      stateDir,
      tz,
      listen: opts.listen ?? "tcp",
      host: "127.0.0.1",
      placeholders: mode,
      ...(unshare ? { unshare } : {}),
      extraPlaceholders: opts.extraPlaceholders ?? [],
      startTimeoutMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    proc = launched.proc;
    if (!opts.keepStateDir) proc.cleanupSync = () => fs.rmSync(stateDir, { recursive: true, force: true });
    await waitForXend(launched.ready.xend, deadline, proc);
    return new SandboxBackend({
      xendVersion: opts.xendVersion,
      tree,
      proc,
      ready: launched.ready,
      python,
      tz,
      concurrency: opts.concurrency ?? 4,
      timeoutMs: opts.timeoutMs ?? 30_000,
      ...(placeholderNote ? { placeholderNote } : {}),
      startupMs: Date.now() - t0,
      keepStateDir: opts.keepStateDir ?? false,
      cleanupDomains: opts.cleanupDomains ?? true,
      ...(opts.log ? { log: opts.log } : {}),
    });
  } catch (e) {
    await proc?.stop();
    if (!opts.keepStateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    throw e;
  }
}
