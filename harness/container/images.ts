/**
 * Images of the container backend, built locally without any registry (docker's legacy builder
 * through the docker CLI, so each build step can be shown as progress):
 *
 * - base images from ci/base-images.sh (the one recipe CI and this module share):
 *   `xend-compat/node-scratch:<node version>` and `xend-compat/debian-py27:bookworm`;
 * - the replay image `xend-compat/replay:<xend>-<hash>`: node-scratch + the built project (dist/harness,
 *   package.json, the production node_modules closure) + the recordings of that xend version;
 * - the sandbox image `xend-compat/sandbox:<xend>-<hash>`: harness/sandbox/Dockerfile on debian-py27,
 *   with the Xen tree's tools/python as build input.
 *
 * `<hash>` is the first 12 hex digits of a SHA-256 over everything that goes into the image, so an
 * image is reused exactly while its inputs are unchanged. Every image is labelled org.xend-compat=true.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execa } from "execa";
import { HarnessError } from "../errors.js";
import type { Progress } from "./progress.js";
import { CONTROL_PORT, XEND_PORT } from "./protocol.js";

export const LABEL = "org.xend-compat";

export type BaseImage = "node-scratch" | "debian-py27";

async function docker(args: string[], onLine?: (line: string) => void, env?: Record<string, string>): Promise<string> {
  const p = execa("docker", args, { reject: false, all: true, env: { DOCKER_BUILDKIT: "0", ...env }, stdin: "ignore" });
  let out = "";
  if (p.all) {
    let partial = "";
    p.all.setEncoding("utf8");
    p.all.on("data", (c: string) => {
      out += c;
      const lines = (partial + c).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) if (l.trim()) onLine?.(l);
    });
  }
  const r = await p;
  if (r.failed) {
    const lines = out.split("\n").map((l) => l.trim()).filter((l) => l && !/^(-+>|Removing intermediate|\[Warning\]|DEPRECATED|Install the buildx|BuildKit is currently)/.test(l));
    const why = r.code === "ENOENT" ? "the docker CLI is not installed" : lines.slice(-3).join(" | ") || r.message;
    throw new HarnessError("backend.unavailable", `docker ${args[0]} failed: ${why}`);
  }
  return out;
}

export async function imageExists(tag: string): Promise<boolean> {
  const r = await execa("docker", ["image", "inspect", "--format", "{{.Id}}", tag], { reject: false, stdin: "ignore" });
  return r.exitCode === 0;
}

function baseImagesScript(root: string): string {
  const s = path.join(root, "ci", "base-images.sh");
  if (!fs.existsSync(s)) throw new HarnessError("backend.unavailable", `cannot build base images: ${s} is missing`);
  return s;
}

export async function baseImageTag(root: string, name: BaseImage): Promise<string> {
  const r = await execa("bash", [baseImagesScript(root), "tag", name], { reject: false, stdin: "ignore" });
  if (r.exitCode !== 0) throw new HarnessError("backend.unavailable", `ci/base-images.sh tag ${name} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** The base image's tag, building it first (ci/base-images.sh) when it is missing. */
export async function ensureBaseImage(root: string, name: BaseImage, progress: Progress): Promise<string> {
  const tag = await baseImageTag(root, name);
  if (await imageExists(tag)) return tag;
  progress.step(`building base image ${tag} (no registry: from this host's files)`);
  const p = execa("bash", [baseImagesScript(root), name], { reject: false, stdin: "ignore" });
  let err = "";
  p.stderr?.setEncoding("utf8");
  p.stderr?.on("data", (c: string) => {
    err += c;
    for (const l of c.split("\n")) if (l.trim()) progress.step(l.replace(/^\[base-images\] /, ""));
  });
  const r = await p;
  if (r.exitCode !== 0 || !(await imageExists(tag)))
    throw new HarnessError("backend.unavailable", `could not build base image ${tag}: ${err.trim().split("\n").slice(-5).join(" | ")}`);
  progress.done(`base image ${tag} built`);
  return tag;
}

/** A file to put into a build context: its source and where it goes (relative to the context). */
interface Entry {
  src: string;
  dest: string;
}

function walk(dir: string, filter: (rel: string) => boolean = () => true): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.isFile() || e.isSymbolicLink()) {
        if (filter(path.relative(dir, p))) out.push(p);
      }
    }
  };
  visit(dir);
  return out.sort();
}

/** The production dependency closure of the package (what `npm ci --omit=dev` would keep). */
export function productionModules(root: string): string[] {
  const pj = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  const seen = new Set<string>();
  const queue = Object.keys(pj.dependencies ?? {});
  while (queue.length) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    const dir = path.join(root, "node_modules", name);
    let dep: { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    try {
      dep = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as typeof dep;
    } catch {
      continue; // optional or nested elsewhere; nested node_modules travel with their parent
    }
    seen.add(name);
    queue.push(...Object.keys({ ...dep.dependencies, ...dep.optionalDependencies }));
  }
  return [...seen].sort();
}

function hashEntries(entries: Entry[], extra: string[]): string {
  const h = createHash("sha256");
  for (const x of extra) h.update(x + "\0");
  for (const e of entries) {
    h.update(e.dest + "\0");
    h.update(fs.readFileSync(e.src));
    h.update("\0");
  }
  return h.digest("hex").slice(0, 12);
}

function stage(entries: Entry[], dockerfile: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xend-compat-image-"));
  for (const e of entries) {
    const to = path.join(dir, e.dest);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(e.src, to);
  }
  fs.writeFileSync(path.join(dir, "Dockerfile"), dockerfile);
  return dir;
}

/** Build `tag` from a staged context with the legacy builder, one progress step per Dockerfile step. */
export async function buildImage(contextDir: string, tag: string, progress: Progress, buildArgs: Record<string, string> = {}, dockerfile = "Dockerfile"): Promise<void> {
  const args = ["build", "--rm", "--force-rm", "-t", tag, "-f", path.join(contextDir, dockerfile), "--label", `${LABEL}=true`];
  for (const [k, v] of Object.entries(buildArgs)) args.push("--build-arg", `${k}=${v}`);
  args.push(contextDir);
  progress.step(`building ${tag}`);
  await docker(args, (line) => {
    const m = /^Step (\d+\/\d+) : (.*)$/.exec(line);
    if (m) progress.step(`${tag}: step ${m[1]} ${m[2].slice(0, 80)}`);
  });
  if (!(await imageExists(tag))) throw new HarnessError("backend.unavailable", `docker build reported success but ${tag} does not exist`);
  progress.done(`built ${tag}`);
}

export interface ReplayImageOptions {
  root: string;
  xendVersion: string;
  recordingsDir: string;
  progress: Progress;
  /** The built project (tsc's outDir, holding harness/); default: ROOT/dist. */
  distDir?: string;
}

/** What goes into the replay image (without the recordings check); exported for tests. */
export function replayEntries(root: string, xendVersion: string, recordingsDir: string, distDir = path.join(root, "dist")): Entry[] {
  const dist = path.join(distDir, "harness");
  const main = path.join(dist, "container", "replay-main.js");
  if (!fs.existsSync(main))
    throw new HarnessError("backend.unavailable", `the replay image needs the built project (${path.relative(root, main) || main} is missing): run 'npm run build'`);
  const entries: Entry[] = [{ src: path.join(root, "package.json"), dest: "app/package.json" }];
  for (const f of walk(dist, (rel) => rel.endsWith(".js"))) entries.push({ src: f, dest: path.join("app", "dist", "harness", path.relative(dist, f)) });
  for (const m of productionModules(root)) {
    const dir = path.join(root, "node_modules", m);
    for (const f of walk(dir)) entries.push({ src: f, dest: path.join("app", "node_modules", m, path.relative(dir, f)) });
  }
  const recs = path.join(recordingsDir, xendVersion);
  if (fs.existsSync(recs))
    for (const f of walk(recs, (rel) => rel.endsWith(".yaml"))) entries.push({ src: f, dest: path.join("app", "fixtures", "recordings", xendVersion, path.relative(recs, f)) });
  return entries;
}

function replayDockerfile(base: string, xendVersion: string): string {
  return [
    `FROM ${base}`,
    "COPY app/ /app/",
    "WORKDIR /app",
    `LABEL ${LABEL}=true ${LABEL}.mode=replay ${LABEL}.xend=${xendVersion}`,
    `EXPOSE ${XEND_PORT} ${CONTROL_PORT}`,
    'ENTRYPOINT ["/usr/bin/node", "/app/dist/harness/container/replay-main.js"]',
    `CMD ["--xend", "${xendVersion}", "--recordings", "/app/fixtures/recordings"]`,
    "",
  ].join("\n");
}

export async function ensureReplayImage(o: ReplayImageOptions): Promise<string> {
  const base = await ensureBaseImage(o.root, "node-scratch", o.progress);
  const entries = replayEntries(o.root, o.xendVersion, o.recordingsDir, o.distDir);
  const dockerfile = replayDockerfile(base, o.xendVersion);
  const tag = `xend-compat/replay:${o.xendVersion}-${hashEntries(entries, [dockerfile])}`;
  if (await imageExists(tag)) {
    o.progress.step(`reusing ${tag}`);
    return tag;
  }
  o.progress.step(`staging ${entries.length} files for ${tag}`);
  const ctx = stage(entries, dockerfile);
  try {
    await buildImage(ctx, tag, o.progress);
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
  }
  return tag;
}
