/**
 * `xend-compat doctor`: what this machine can run, one line per probe with its status and how to fix
 * it. Environment detection is an ordered list of named probes; a probe may depend on an earlier one
 * and then says why it was skipped. Exit 0 always, unless the command line is wrong (2).
 *
 * Everything a probe touches (environment, files, subprocesses, the Docker API) comes through a
 * `DoctorHost`, so tests inject it; `probes` itself can be replaced too.
 */
import { safeText } from "../terminal.js";
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as http from "node:http";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import type { Command, CliIO } from "./types.js";
import { parseCommandArgs } from "./args.js";
import { XEND_SERIES, xenSrcEnvName } from "../xend/index.js";
import { BUILD_PACKAGES, buildImageTag, dpkgStatusFile, installCommand, missingPackages, type PackageHost } from "../libvirt/build/index.js";

export type ProbeStatus = "ok" | "warn" | "missing" | "skipped";

export interface ProbeResult {
  status: ProbeStatus;
  /** What was found (or why the probe was skipped). */
  detail: string;
  /** How to fix it, when not ok. */
  fix?: string;
  /** Facts later probes may use. */
  facts?: Record<string, string | number | boolean>;
}

export interface DoctorHost {
  env: NodeJS.ProcessEnv;
  /** The package root (where fixtures/ and ci/ are). */
  root: string;
  exists(path: string): boolean;
  isDir(path: string): boolean;
  isSocket(path: string): boolean;
  /** Can this process read and write the path? */
  canReadWrite(path: string): boolean;
  readText(path: string): string | undefined;
  listFiles(dir: string): string[];
  /** Run a program; never throws: code -1 when it cannot be started. */
  run(file: string, args: string[], env?: NodeJS.ProcessEnv): { code: number; stdout: string; stderr: string };
  /** GET a Docker Engine API path; never throws. */
  dockerGet(path: string): Promise<{ ok: true; status: number; body: string } | { ok: false; error: string }>;
}

export interface Probe {
  name: string;
  run(host: DoctorHost, earlier: ReadonlyMap<string, ProbeResult>): Promise<ProbeResult> | ProbeResult;
}

export const XEND_VERSIONS: readonly string[] = XEND_SERIES.map((s) => s.version);
export const xenSrcVar = xenSrcEnvName;
export const LIVE_SOCKET = "/var/lib/xend/xend-socket";

const ENGINE_FIX =
  "install and start a Docker engine the way your system does it (Debian, as root: apt-get install docker.io && systemctl start docker); ci/test.sh starts a private one for its own run and stops only that";

/** Where the Docker API is: DOCKER_HOST (unix:// or tcp://) or /var/run/docker.sock. */
export function dockerEndpoint(env: NodeJS.ProcessEnv): { socketPath: string } | { host: string; port: number } {
  const h = env.DOCKER_HOST;
  if (h?.startsWith("unix://")) return { socketPath: h.slice("unix://".length) };
  if (h?.startsWith("tcp://")) {
    const u = new URL(h.replace(/^tcp:/, "http:"));
    return { host: u.hostname, port: Number(u.port || 2375) };
  }
  return { socketPath: "/var/run/docker.sock" };
}

function describeEndpoint(env: NodeJS.ProcessEnv): string {
  const e = dockerEndpoint(env);
  return "socketPath" in e ? `unix://${e.socketPath}` : `tcp://${e.host}:${e.port}`;
}

function pyenvRoot(host: DoctorHost): string {
  if (host.env.PYENV_ROOT) return host.env.PYENV_ROOT;
  const r = host.run("pyenv", ["root"]);
  if (r.code === 0 && r.stdout.trim()) return r.stdout.trim();
  return join(host.env.HOME ?? homedir(), ".pyenv");
}

/** `key=value` lines of a Xen tree's `.xend-compat-origin`, or its git HEAD. */
function provenance(host: DoctorHost, dir: string): string | undefined {
  const origin = host.readText(join(dir, ".xend-compat-origin"));
  if (origin) {
    const kv = Object.fromEntries(
      origin
        .split("\n")
        .map((l) => /^([\w.-]+)=(.*)$/.exec(l.trim()))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], m[2]]),
    );
    if (kv.repo || kv.commit) return `${kv.repo ?? "?"}@${(kv.commit ?? "?").slice(0, 12)}`;
  }
  if (host.exists(join(dir, ".git"))) {
    const r = host.run("git", ["-C", dir, "rev-parse", "HEAD"]);
    if (r.code === 0) return `git ${r.stdout.trim().slice(0, 12)}`;
  }
  return undefined;
}

function countRecordings(host: DoctorHost, dir: string): number {
  return host.listFiles(dir).filter((f) => f.endsWith(".yaml") && !/(^|\/)\./.test(f.slice(dir.length + 1))).length;
}

/** The probes, in order. Later ones read earlier results by name. */
export function defaultProbes(): Probe[] {
  const probes: Probe[] = [
    {
      name: "docker engine",
      async run(host) {
        const where = describeEndpoint(host.env);
        const noEngine = host.env.XEND_COMPAT_NO_ENGINE;
        const r = await host.dockerGet("/version");
        if (!r.ok) {
          return {
            status: "missing",
            detail: `no engine answers at ${where}: ${r.error}${noEngine ? ` (XEND_COMPAT_NO_ENGINE: ${noEngine})` : ""}`,
            fix: ENGINE_FIX,
          };
        }
        if (r.status !== 200) return { status: "missing", detail: `${where} answered HTTP ${r.status} to /version`, fix: ENGINE_FIX };
        let v: { Version?: string; ApiVersion?: string } = {};
        try {
          v = JSON.parse(r.body) as typeof v;
        } catch {
          /* reported below as unknown */
        }
        return {
          status: "ok",
          detail: `Docker Engine ${v.Version ?? "?"} (API ${v.ApiVersion ?? "?"}) at ${where}`,
          facts: { engine: true },
        };
      },
    },
    {
      name: "testcontainers settings",
      run(host, earlier) {
        if (!earlier.get("docker engine")?.facts?.engine) return { status: "skipped", detail: "skipped: no container engine (see above)" };
        const problems: string[] = [];
        const fixes: string[] = [];
        if (host.env.TESTCONTAINERS_RYUK_DISABLED !== "true" && !host.env.RYUK_CONTAINER_IMAGE) {
          problems.push("Ryuk enabled: testcontainers will try to pull testcontainers/ryuk (no registry here)");
          fixes.push("export TESTCONTAINERS_RYUK_DISABLED=true");
        }
        if (!host.env.TESTCONTAINERS_HOST_OVERRIDE) {
          problems.push(
            host.exists("/.dockerenv")
              ? "TESTCONTAINERS_HOST_OVERRIDE unset and /.dockerenv exists: host detection will try to pull alpine"
              : "TESTCONTAINERS_HOST_OVERRIDE unset",
          );
          fixes.push("export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1");
        }
        if (problems.length === 0)
          return {
            status: "ok",
            detail: `TESTCONTAINERS_RYUK_DISABLED=${host.env.TESTCONTAINERS_RYUK_DISABLED ?? ""} TESTCONTAINERS_HOST_OVERRIDE=${host.env.TESTCONTAINERS_HOST_OVERRIDE}`,
          };
        return { status: "warn", detail: problems.join("; "), fix: fixes.join("; ") };
      },
    },
    {
      name: "base images",
      async run(host, earlier) {
        if (!earlier.get("docker engine")?.facts?.engine) return { status: "skipped", detail: "skipped: no container engine (see above)" };
        const tags = ["node-scratch", "debian-py27"].map((n) => {
          const r = host.run("bash", [join(host.root, "ci", "base-images.sh"), "tag", n]);
          return { n, tag: r.code === 0 ? r.stdout.trim() : "" };
        });
        const have: string[] = [];
        const lack: string[] = [];
        for (const { n, tag } of tags) {
          const r = tag ? await host.dockerGet(`/images/${encodeURIComponent(tag)}/json`) : { ok: false as const, error: "no tag" };
          (r.ok && r.status === 200 ? have : lack).push(tag || n);
        }
        if (lack.length === 0) return { status: "ok", detail: `present: ${have.join(", ")}` };
        return {
          status: "warn",
          detail: `missing: ${lack.join(", ")}${have.length ? `; present: ${have.join(", ")}` : ""} (built on demand, no registry needed)`,
          fix: "bash ci/base-images.sh node-scratch; bash ci/base-images.sh debian-py27",
        };
      },
    },
    {
      name: "python 2.7",
      run(host) {
        const home = join(pyenvRoot(host), "versions", "2.7.18");
        const py = join(home, "bin", "python2.7");
        if (!host.exists(py))
          return { status: "missing", detail: `no pyenv Python 2.7.18 at ${home}`, fix: "pyenv install 2.7.18 (the sandbox backend needs it)" };
        const r = host.run(py, ["-V"]);
        const version = (r.stdout + r.stderr).trim();
        if (r.code !== 0) return { status: "missing", detail: `${py} -V failed: ${version || `exit ${r.code}`}`, fix: "pyenv install --force 2.7.18" };
        return {
          status: "ok",
          detail: `${version} at ${py}; call it as 'PYENV_VERSION=2.7.18 python2.7' or by that path (the plain python2.7 shim fails)`,
          facts: { python: py },
        };
      },
    },
    ...XEND_VERSIONS.map(
      (v): Probe => ({
        name: `xen tree ${v}`,
        run(host) {
          const name = xenSrcVar(v);
          const dir = host.env[name];
          const fix = `export ${name}=/path/to/xen-${v} (a Xen source tree; only tools/python is needed)`;
          if (!dir) return { status: "skipped", detail: `skipped: ${name} is not set`, fix };
          if (!host.isDir(dir)) return { status: "missing", detail: `${name}=${dir}: no such directory`, fix };
          const xend = join(dir, "tools", "python", "xen", "xend");
          if (!host.isDir(xend)) return { status: "missing", detail: `${name}=${dir}: no tools/python/xen/xend in it`, fix };
          const prov = provenance(host, dir);
          return {
            status: prov ? "ok" : "warn",
            detail: `${dir} (xend present; provenance: ${prov ?? "none found"})`,
            fix: prov ? undefined : `add ${join(dir, ".xend-compat-origin")} with repo=... commit=... lines (recordings name their tree)`,
            facts: { tree: dir },
          };
        },
      }),
    ),
    {
      name: "live xend socket",
      run(host) {
        const p = host.env.XEND_COMPAT_LIVE_SOCKET ?? LIVE_SOCKET;
        if (!host.exists(p)) return { status: "skipped", detail: `skipped: no ${p} (no xend running on this machine)`, fix: "only for --backend live on a Xen host" };
        if (!host.isSocket(p)) return { status: "warn", detail: `${p} exists but is not a unix socket` };
        if (!host.canReadWrite(p))
          return { status: "warn", detail: `${p}: permission denied for this user`, fix: "run as root or a user with read/write access to the socket" };
        return { status: "ok", detail: `${p} is a socket this user can use (--backend live --xend-url unix://${p})` };
      },
    },
    ...XEND_VERSIONS.map(
      (v): Probe => ({
        name: `recordings ${v}`,
        run(host) {
          const dir = join(host.root, "fixtures", "recordings", v);
          const n = host.isDir(dir) ? countRecordings(host, dir) : 0;
          if (n === 0)
            return {
              status: "missing",
              detail: `no recordings in ${dir}`,
              fix: `xend-compat record --backend sandbox --xend ${v} (needs ${xenSrcVar(v)} and Python 2.7)`,
            };
          return { status: "ok", detail: `${n} recording(s) in ${dir}` };
        },
      }),
    ),
    {
      // src:DIR (a user's libvirt tree built as a profile) needs these Debian packages, or a Docker
      // engine to build in a container image that has them (--build-in auto/container).
      name: "libvirt build packages",
      async run(host, earlier) {
        const pkgHost: PackageHost = {
          env: host.env,
          exists: (f) => host.exists(f),
          readText: (f) => host.readText(f),
          pythonImports: (m) => host.run("python3", ["-c", `import ${m}`]).code === 0,
        };
        const all = missingPackages(undefined, pkgHost);
        const oldest = new Set(missingPackages("0.0.0", pkgHost));
        const eraOnly = BUILD_PACKAGES.filter((p) => p.onlyFrom && all.includes(p.pkg));
        const source = host.readText(dpkgStatusFile(host.env)) !== undefined ? `dpkg status ${dpkgStatusFile(host.env)}` : "probes of PATH and headers (no dpkg status)";
        if (!all.length) return { status: "ok", detail: `every Debian package to build a libvirt tree of any era (--libvirt src:DIR) is installed (by ${source}); builds run on this host` };
        const byEra = new Map<string, string[]>();
        for (const p of eraOnly) byEra.set(p.onlyFrom!, [...(byEra.get(p.onlyFrom!) ?? []), p.pkg]);
        const eras = [oldest.size ? `every era: ${[...oldest].join(", ")}` : "", ...[...byEra].map(([v, pkgs]) => `libvirt >= ${v}: ${pkgs.join(", ")}`)].filter(Boolean).join("; ");
        const engine = Boolean(earlier.get("docker engine")?.facts?.engine);
        let fallback = "no Docker engine either, so src:DIR builds stop with exit 2 until one of the two is there";
        if (engine) {
          const tag = buildImageTag();
          const img = await host.dockerGet(`/images/${encodeURIComponent(tag)}/json`);
          fallback = `a Docker engine answers, so src:DIR builds run in a container of ${tag} (${img.ok && img.status === 200 ? "present" : "built on first use, about a minute"}) unless --build-in host`;
        }
        return {
          status: engine ? "warn" : "missing",
          detail: `missing (by ${source}) for ${eras}; ${fallback}`,
          fix: `${installCommand(all)} (as root; or --build-in container with a Docker engine)`,
        };
      },
    },
    {
      name: "backends",
      run(_host, earlier) {
        const can = (name: string) => earlier.get(name)?.status === "ok";
        const trees = XEND_VERSIONS.filter((v) => can(`xen tree ${v}`));
        const recs = XEND_VERSIONS.filter((v) => can(`recordings ${v}`));
        const parts = [
          `recorded: ${recs.length ? recs.join(", ") : "none"}`,
          `sandbox: ${can("python 2.7") && trees.length ? trees.join(", ") : "none"}`,
          `container: ${can("docker engine") ? `${trees.length ? `sandbox ${trees.join(", ")}` : "no sandbox"}; replay ${recs.length ? recs.join(", ") : "none"}` : "none"}`,
          `live: ${can("live xend socket") ? "yes" : "no"}`,
        ];
        return { status: "ok", detail: parts.join("; ") };
      },
    },
  ];
  return probes;
}

export async function runProbes(probes: Probe[], host: DoctorHost): Promise<{ name: string; result: ProbeResult }[]> {
  const earlier = new Map<string, ProbeResult>();
  const out: { name: string; result: ProbeResult }[] = [];
  for (const p of probes) {
    let result: ProbeResult;
    try {
      result = await p.run(host, earlier);
    } catch (e) {
      result = { status: "warn", detail: `probe failed: ${e instanceof Error ? e.message : String(e)}` };
    }
    earlier.set(p.name, result);
    out.push({ name: p.name, result });
  }
  return out;
}

const MARK: Record<ProbeStatus, string> = { ok: "ok", warn: "WARN", missing: "MISSING", skipped: "skip" };

export function formatResults(rows: { name: string; result: ProbeResult }[]): string[] {
  const w = Math.max(...rows.map((r) => r.name.length));
  return rows.map(({ name, result }) => {
    const fix = result.fix && result.status !== "ok" ? `  -> fix: ${result.fix}` : "";
    return `${MARK[result.status].padEnd(7)} ${name.padEnd(w)}  ${result.detail}${fix}`;
  });
}

function findRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, "package.json")) && existsSync(join(d, "harness"))) return d;
    d = dirname(d);
  }
  return process.cwd();
}

export function realHost(env: NodeJS.ProcessEnv, root = findRoot()): DoctorHost {
  const stat = (p: string) => {
    try {
      return statSync(p);
    } catch {
      return undefined;
    }
  };
  return {
    env,
    root,
    exists: (p) => existsSync(p),
    isDir: (p) => stat(p)?.isDirectory() ?? false,
    isSocket: (p) => stat(p)?.isSocket() ?? false,
    canReadWrite: (p) => {
      try {
        accessSync(p, constants.R_OK | constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
    readText: (p) => {
      try {
        return readFileSync(p, "utf8");
      } catch {
        return undefined;
      }
    },
    listFiles: (dir) => {
      try {
        return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[])
          .filter((e) => e.isFile())
          .map((e) => join(e.parentPath, e.name));
      } catch {
        return [];
      }
    },
    run: (file, args, runEnv) => {
      const r = spawnSync(file, args, { env: runEnv ?? env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 });
      if (r.error) return { code: -1, stdout: "", stderr: r.error.message };
      return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    },
    dockerGet: (path) =>
      new Promise((done) => {
        const req = http.get({ ...dockerEndpoint(env), path, timeout: 5_000 }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => done({ ok: true, status: res.statusCode ?? 0, body }));
        });
        req.on("timeout", () => req.destroy(new Error("no answer within 5 s")));
        req.on("error", (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ? `${e.code}` : e.message }));
      }),
  };
}

const HELP = `usage: xend-compat doctor [--json]

What this machine can run, one line per probe (in order; a probe that depends on an earlier one says
why it was skipped), each with its status and how to fix it:
  docker engine, testcontainers settings, base images, python 2.7,
  xen tree <version> (XEND_COMPAT_XEN_SRC_<version with _ for .>, e.g. _3_0_0, _3_2, _4_4_4), live xend socket (${LIVE_SOCKET}),
  recordings <version>, libvirt build packages (the Debian packages --libvirt src:DIR builds need,
  per libvirt era, with the one apt-get command that installs them, and whether a build would run in
  a container image instead: --build-in), backends (what each backend can do here).

options:
  --json     one JSON object: {probes: [{name, status, detail, fix}]}

Exit code: 0 always (doctor reports, it does not judge); 2 on a usage error.`;

export async function doctor(io: CliIO, json: boolean, probes = defaultProbes(), host = realHost(io.env)): Promise<number> {
  const rows = await runProbes(probes, host);
  if (json) io.out(JSON.stringify({ probes: rows.map(({ name, result }) => ({ name, status: result.status, detail: result.detail, fix: result.fix ?? null })) }, null, 2));
  else for (const line of formatResults(rows)) io.out(safeText(line));
  return 0;
}

export const command: Command = {
  name: "doctor",
  summary: "what this machine can run (engine, Python 2.7, Xen trees)",
  help: HELP,
  async run(argv, io) {
    const { values } = parseCommandArgs("doctor", argv, { json: { type: "boolean" } });
    return doctor(io, values.json ?? false, defaultProbes(), realHost(io.env, resolveRoot(io)));
  },
};

function resolveRoot(io: CliIO): string {
  return io.env.XEND_COMPAT_ROOT ? resolve(io.cwd, io.env.XEND_COMPAT_ROOT) : findRoot();
}
