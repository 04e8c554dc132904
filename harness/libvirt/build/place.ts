/**
 * Where the commands of a build run: on the host, or in the build image (Debian bookworm with the
 * build packages, made locally by ci/base-images.sh: mmdebstrap into docker import, no registry).
 *
 * In the container, every command is one `docker run --rm` of that image, as the user's uid:gid, with
 * no network, and with the tree's cache directory bind-mounted at the SAME absolute path (libtool and
 * the Makefiles embed absolute paths, so a rebuild in a later run finds what the earlier one made, and
 * the files stay the user's). Our scripts and the driver's source are mounted read-only, also at their
 * own paths. The driver process is one such container, alive as long as the process is (its stdin and
 * stdout are the line protocol). Every container carries org.xend-compat=true (and
 * org.xend-compat.run=<XEND_COMPAT_RUN_ID> when set); the ones this process started are removed on
 * SIGINT/SIGTERM/SIGHUP and at exit, never any other.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess, type SpawnSyncReturns, type StdioOptions } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { HarnessError } from "../../errors.js";
import { onStopSignal } from "../../signals.js";
import { BUILD_PACKAGES, IMAGE_EXTRA_PACKAGES, decideBuildPlace, missingPackages, parseBuildIn, realPackageHost, type BuildIn, type PlaceDecision } from "./packages.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LABEL = "org.xend-compat";

export interface RunOptions {
  cwd: string;
  /** The variables the command needs (on the host they are added to this process's environment). */
  vars: Record<string, string>;
}

export interface BuildPlace {
  where: "host" | "container";
  /** The build image (container only). */
  image?: string;
  /** Part of the cache key: a copy configured in one place is not reused in another. */
  cacheKey: string;
  /** Bind-mount this directory at its own path (container only; the host sees it anyway). */
  share(dir: string, mode: "rw" | "ro"): void;
  spawn(file: string, args: string[], o: RunOptions & { stdio: StdioOptions }): ChildProcess;
  spawnSync(file: string, args: string[], o: RunOptions): SpawnSyncReturns<string>;
  /** How the persistent driver process is started (each start: a fresh process). */
  spawnDriver(binary: string): ChildProcess;
  /** One line for progress and provenance. */
  describe(): string;
}

export function hostPlace(): BuildPlace {
  return {
    where: "host",
    cacheKey: "",
    share() {},
    spawn: (file, args, o) => spawn(file, args, { cwd: o.cwd, env: { ...process.env, ...o.vars }, stdio: o.stdio }),
    spawnSync: (file, args, o) => spawnSync(file, args, { cwd: o.cwd, env: { ...process.env, ...o.vars }, encoding: "utf8" }),
    spawnDriver: (binary) => spawn(binary, [], { stdio: ["pipe", "pipe", "pipe"] }),
    describe: () => "on this host",
  };
}

// ---- the image -------------------------------------------------------------------------------

/** Every package the build image holds (sorted): all eras' build packages and the image's extras. */
export function imagePackages(): string[] {
  return [...new Set([...BUILD_PACKAGES.map((p) => p.pkg), ...IMAGE_EXTRA_PACKAGES])].sort();
}

/** `xend-compat/libvirt-build:bookworm-<12 hex of SHA-256 over the suite and the package list>`. */
export function buildImageTag(pkgs: string[] = imagePackages()): string {
  const h = createHash("sha256").update(`bookworm\n${[...pkgs].sort().join("\n")}`).digest("hex").slice(0, 12);
  return `xend-compat/libvirt-build:bookworm-${h}`;
}

function baseImagesScript(): string {
  for (const d of [path.join(HERE, "../../../ci"), path.join(HERE, "../../../../ci")]) {
    const f = path.join(d, "base-images.sh");
    if (fs.existsSync(f)) return f;
  }
  throw new HarnessError("backend.unavailable", `cannot build the libvirt build image: ci/base-images.sh is missing (looked beside ${HERE})`);
}

function docker(args: string[], timeoutMs = 30_000): { ok: boolean; out: string; err: string } {
  const r = spawnSync("docker", args, { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] });
  if (r.error) return { ok: false, out: "", err: (r.error as NodeJS.ErrnoException).code === "ENOENT" ? "the docker CLI is not installed" : r.error.message };
  return { ok: r.status === 0, out: r.stdout ?? "", err: r.stderr ?? "" };
}

/** null when a Docker engine answers the docker CLI, else why not (one phrase). */
export async function engineAnswers(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("docker", ["version", "--format", "{{.Server.Version}}"], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (!err && stdout.trim()) return resolve(null);
      if ((err as NodeJS.ErrnoException | null)?.code === "ENOENT") return resolve("the docker CLI is not installed");
      const line = String(stderr).trim().split("\n").filter(Boolean).pop();
      resolve(line ? line.replace(/^error during connect: /i, "") : "no answer from the docker CLI within 10 s");
    });
  });
}

/** The build image, built first (minutes: mmdebstrap fetches the packages from Debian) when missing. */
export async function ensureBuildImage(progress: (line: string) => void): Promise<string> {
  const tag = buildImageTag();
  if (docker(["image", "inspect", "--format", "{{.Id}}", tag]).ok) return tag;
  progress(`xend-compat: building the libvirt build image ${tag} (Debian bookworm + the build packages, once; reused while the package list is the same)`);
  const script = baseImagesScript();
  const err = await new Promise<{ code: number; err: string }>((resolve) => {
    const child = spawn("bash", [script, "libvirt-build", tag, imagePackages().join(",")], { stdio: ["ignore", "ignore", "pipe"] });
    let text = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (c: string) => {
      text += c;
      for (const l of c.split("\n")) if (l.trim()) progress(`  ${l.replace(/^\[base-images\] /, "")}`);
    });
    child.on("error", (e) => resolve({ code: 127, err: e.message }));
    child.on("close", (code) => resolve({ code: code ?? 1, err: text }));
  });
  if (err.code !== 0 || !docker(["image", "inspect", tag]).ok)
    throw new HarnessError("backend.unavailable", `could not build the libvirt build image ${tag}: ${err.err.trim().split("\n").slice(-4).join(" | ") || `exit ${err.code}`}`);
  return tag;
}

// ---- containers this process started ---------------------------------------------------------

const running = new Set<string>();
let unregister: (() => void) | undefined;

function removeNow(names: string[]): void {
  if (!names.length) return;
  try {
    execFileSync("docker", ["rm", "-f", ...names], { stdio: "ignore", timeout: 15_000 });
  } catch {
    /* best effort: gone already */
  }
}
function onExit(): void {
  removeNow([...running]);
  running.clear();
}
function track(name: string): void {
  running.add(name);
  if (!unregister) {
    const off = onStopSignal({ name: "build containers", cleanup: () => onExit(), abandon: () => (running.size ? `build containers ${[...running].join(", ")}` : "") });
    process.on("exit", onExit);
    unregister = () => {
      off();
      process.removeListener("exit", onExit);
    };
  }
}
function untrack(name: string): void {
  running.delete(name);
  if (running.size === 0 && unregister) {
    unregister();
    unregister = undefined;
  }
}
/** For tests: the build containers this process is responsible for right now. */
export function runningBuildContainers(): string[] {
  return [...running];
}

/** The labels of every container a build starts. */
export function buildLabels(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const id = env.XEND_COMPAT_RUN_ID;
  return { [LABEL]: "true", [`${LABEL}.role`]: "libvirt-build", ...(id && /^[A-Za-z0-9_.-]{1,64}$/.test(id) ? { [`${LABEL}.run`]: id } : {}) };
}

/**
 * docker's --mount value binding DIR at the same path: its fields are CSV, so a field holding a comma
 * or a quote is quoted (`-v` splits on ':' and cannot carry a path with one).
 */
export function bindMount(dir: string, mode: "rw" | "ro"): string {
  const field = (f: string) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f);
  return ["type=bind", field(`source=${dir}`), field(`target=${dir}`), ...(mode === "ro" ? ["readonly"] : [])].join(",");
}

export function containerPlace(image: string, env: NodeJS.ProcessEnv = process.env): BuildPlace {
  const mounts = new Map<string, "rw" | "ro">();
  const user = typeof process.getuid === "function" ? `${process.getuid()}:${process.getgid!()}` : "0:0";
  const runArgs = (name: string, o: RunOptions, interactive: boolean, file: string, args: string[]): string[] => {
    const a = ["run", "--rm", "--name", name, "--network", "none", "--init", "--user", user, "-w", o.cwd];
    if (interactive) a.push("-i");
    for (const [k, v] of Object.entries(buildLabels(env))) a.push("--label", `${k}=${v}`);
    for (const [dir, mode] of mounts) a.push("--mount", bindMount(dir, mode));
    for (const [k, v] of Object.entries({ HOME: "/tmp", LC_ALL: "C", ...o.vars })) a.push("-e", `${k}=${v}`);
    a.push(image, file, ...args);
    return a;
  };
  const newName = () => `xend-compat-build-${process.pid}-${randomBytes(4).toString("hex")}`;
  const spawnTracked = (file: string, args: string[], o: RunOptions, stdio: StdioOptions, interactive: boolean): ChildProcess => {
    const name = newName();
    track(name);
    const child = spawn("docker", runArgs(name, o, interactive, file, args), { stdio });
    child.on("close", () => untrack(name));
    child.on("error", () => untrack(name));
    // Killing the docker client does not stop the container: remove it (a hung conversion, a signal).
    const kill = child.kill.bind(child);
    child.kill = (sig?: NodeJS.Signals | number) => {
      execFile("docker", ["rm", "-f", name], () => {});
      return kill(sig);
    };
    return child;
  };
  const runSync = (file: string, args: string[], o: RunOptions): SpawnSyncReturns<string> => {
    const name = newName();
    track(name);
    try {
      return spawnSync("docker", runArgs(name, o, false, file, args), { encoding: "utf8" });
    } finally {
      untrack(name);
    }
  };
  return {
    where: "container",
    image,
    cacheKey: `container:${image}`,
    share(dir, mode) {
      if (mounts.get(dir) !== "rw") mounts.set(dir, mode);
    },
    spawn: (file, args, o) => spawnTracked(file, args, o, o.stdio, false),
    spawnSync: runSync,
    spawnDriver(binary) {
      // The driver runs on this host with the image's own loader and libraries (copied once into the
      // tree's cache directory): measured nearly 4x faster than over `docker run -i`, where every request
      // crosses docker's attach stream (harness/libvirt/build/DECISIONS.md). Without that copy: in a container.
      const home = [...mounts].find(([dir, mode]) => mode === "rw" && binary.startsWith(dir + path.sep))?.[0];
      const rt = home ? imageRuntime(image, binary, home, runSync) : null;
      if (rt) return spawn(rt.loader, ["--library-path", rt.libraryPath, rt.elf], { stdio: ["pipe", "pipe", "pipe"] });
      return spawnTracked(binary, [], { cwd: path.dirname(binary), vars: {} }, ["pipe", "pipe", "pipe"], true);
    },
    describe: () => `in a container of ${image}`,
  };
}

// Which libraries the driver loads, copied out of the image: its ELF (behind a libtool wrapper, the
// real program in .libs/), every library ldd resolves outside the build copy, and the image's loader.
const RUNTIME_SCRIPT = `set -eu
elf=$1 rt=$2 copy=$3
if ! head -c 4 "$elf" | grep -q ELF; then elf="$(dirname "$elf")/.libs/$(basename "$elf")"; fi
export LD_LIBRARY_PATH="$copy/src/.libs"
rm -rf "$rt.new"; mkdir -p "$rt.new"
echo "elf $elf"
for l in $(ldd "$elf" | grep -o '/[^ ]*'); do
  case "$l" in
    "$copy"/*) echo "dir $(dirname "$l")" ;;
    *) cp -L "$l" "$rt.new/"; case "$l" in */ld-linux*) echo "loader $rt/$(basename "$l")" ;; esac ;;
  esac
done
rm -rf "$rt"; mv "$rt.new" "$rt"
`;

interface Runtime {
  loader: string;
  libraryPath: string;
  elf: string;
}

/**
 * The image's loader and libraries for a driver binary, in `<home>/runtime/` (home: the tree's cache
 * directory), redone only when the image or the configuration changed. null when they cannot be had (the driver then runs
 * in a container).
 */
function imageRuntime(image: string, binary: string, home: string, run: (file: string, args: string[], o: RunOptions) => SpawnSyncReturns<string>): Runtime | null {
  const rt = path.join(home, "runtime");
  const keyFile = path.join(home, "runtime.json");
  // The libraries change only with the image or a new configure (a new link line); a relink after a
  // change to the code does not need a new copy.
  let sig: string;
  try {
    sig = `${image}\0${binary}\0${fs.statSync(path.join(path.dirname(path.dirname(binary)), "config.status")).mtimeMs}`;
  } catch {
    return null;
  }
  try {
    const saved = JSON.parse(fs.readFileSync(keyFile, "utf8")) as Runtime & { sig: string };
    if (saved.sig === sig && fs.existsSync(saved.loader)) return saved;
  } catch {
    /* first time */
  }
  const r = run("sh", ["-c", RUNTIME_SCRIPT, "runtime", binary, rt, path.dirname(path.dirname(binary))], { cwd: home, vars: {} });
  if (r.status !== 0) return null;
  const lines = (r.stdout ?? "").split("\n");
  const pick = (k: string) => lines.filter((l) => l.startsWith(k + " ")).map((l) => l.slice(k.length + 1).trim());
  const loader = pick("loader")[0];
  const elf = pick("elf")[0];
  if (!loader || !elf) return null;
  const copy = path.dirname(path.dirname(binary));
  const libraryPath = [rt, ...new Set([...pick("dir"), path.join(copy, "src", ".libs")])].join(":");
  const out = { loader, libraryPath, elf };
  fs.writeFileSync(keyFile, JSON.stringify({ ...out, sig }));
  return out;
}

/**
 * Decide where a tree of `version` builds (`--build-in` / XEND_COMPAT_BUILD_IN; auto by default) and
 * make that place ready (the container's image is built once when missing).
 */
export async function chooseBuildPlace(version: string, env: NodeJS.ProcessEnv = process.env, progress: (l: string) => void = () => {}): Promise<{ place: BuildPlace; decision: PlaceDecision }> {
  const mode: BuildIn = parseBuildIn(env.XEND_COMPAT_BUILD_IN);
  const missing = missingPackages(version, realPackageHost(env));
  const decision = await decideBuildPlace(mode, version, missing, engineAnswers);
  if (decision.where === "host") return { place: hostPlace(), decision };
  const image = await ensureBuildImage(progress);
  return { place: containerPlace(image, env), decision };
}
