/**
 * The container backend, for real: containers started with testcontainers from images built here
 * without any registry. Needs a Docker engine (ci/containers.sh sets one up); without one every test
 * that needs it is skipped with the reason (XEND_COMPAT_NO_ENGINE or the failed socket probe).
 *
 * Recordings: the shipped ones (fixtures/recordings/<xend>/) when there are any; otherwise, when a
 * Xen tree and Python 2.7 are at hand, a few define+read cells recorded here from the real xend (the
 * in-process sandbox) into a temporary directory; otherwise the replay tests skip ("no recordings
 * shipped yet").
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { isHarnessError } from "../harness/errors.js";
import { expandCells, loadMatrix, fromRoot, DEFAULT_MATRIX, type Cell } from "../harness/matrix/index.js";
import { runCells, type CellResult } from "../harness/run/index.js";
import { createBackend, exchange, libvirtGet, packageRoot, RecordedBackend, type Backend } from "../harness/xend/index.js";
import { recordCells } from "../harness/cli/record.js";
import { command as runCommand } from "../harness/cli/run.js";
import { makeReport, render, summaryLine } from "../harness/report/index.js";
import { addShardToJson, mergeShards, parseShard, readShardReport, shardInfo } from "../harness/shard/index.js";
import {
  ContainerBackend,
  ensureReplayImage,
  replayEntries,
  LOOPBACK,
  makeProgress,
  protocol,
  runningContainers,
  startContainerBackend,
  startReplayServer,
  startWithTestcontainers,
  type ContainerStarter,
} from "../harness/container/index.js";

const ROOT = packageRoot();
const VERSIONS = ["3.2", "3.4.3", "4.1.2"];
const log = (l: string) => console.log(l);

function dockerSocket(): { socketPath: string } | { host: string; port: number } {
  const h = process.env.DOCKER_HOST;
  if (h?.startsWith("unix://")) return { socketPath: h.slice(7) };
  if (h?.startsWith("tcp://")) {
    const u = new URL(h.replace(/^tcp:/, "http:"));
    return { host: u.hostname, port: Number(u.port || 2375) };
  }
  return { socketPath: "/var/run/docker.sock" };
}

function ping(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ ...dockerSocket(), path: "/_ping", timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `the Docker engine answered /_ping with HTTP ${res.statusCode}`);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e: NodeJS.ErrnoException) => resolve(`no Docker engine answers (${e.code ?? e.message}); see xend-compat doctor`));
  });
}

const NO_ENGINE: string | undefined = process.env.XEND_COMPAT_NO_ENGINE || (await ping());
if (NO_ENGINE) console.log(`[container tests] skipped: ${NO_ENGINE}`);

function python27(): string | undefined {
  const root = process.env.PYENV_ROOT ?? path.join(os.homedir(), ".pyenv");
  const p = path.join(root, "versions", "2.7.18", "bin", "python2.7");
  return fs.existsSync(p) && spawnSync(p, ["-V"]).status === 0 ? p : undefined;
}

/** A Xen tree named by XEND_COMPAT_XEN_SRC_<v>, newest version first. */
function xenTree(): { version: string; dir: string } | undefined {
  for (const v of [...VERSIONS].reverse()) {
    const dir = process.env[`XEND_COMPAT_XEN_SRC_${v.replace(/\./g, "_")}`];
    if (dir && fs.existsSync(path.join(dir, "tools", "python", "xen", "xend"))) return { version: v, dir };
  }
  return undefined;
}
const TREE = xenTree();
const PYTHON = python27();
const NO_SANDBOX = NO_ENGINE ?? (!TREE ? "no Xen tree (set XEND_COMPAT_XEN_SRC_4_1_2 or another version's variable)" : undefined);
if (NO_SANDBOX && !NO_ENGINE) console.log(`[container tests] sandbox image test skipped: ${NO_SANDBOX}`);

function shippedVersion(): string | undefined {
  for (const v of VERSIONS) {
    const dir = path.join(ROOT, "fixtures", "recordings", v);
    if (fs.existsSync(dir) && (fs.readdirSync(dir, { recursive: true }) as string[]).some((f) => f.endsWith(".yaml"))) return v;
  }
  return undefined;
}

const matrix = () => loadMatrix(fromRoot(DEFAULT_MATRIX), { displayName: DEFAULT_MATRIX });
/** Cells whose steps are only define and read (quick, and every backend can play them). */
function defineReadCells(xend: string, libvirt?: string): Cell[] {
  return expandCells(matrix(), { xend: [xend], ...(libvirt ? { libvirt: [libvirt] } : {}) }).filter(
    (c) => c.scenario.steps.map((s) => s.kind).join(",") === "define,read",
  );
}

/** What must be equal whichever backend played xend. */
function comparable(r: CellResult) {
  const { backend: _b, replayed: _r, durationMs: _t, ...rest } = r;
  return rest;
}

function clockStory(r: CellResult) {
  const o = r.observation;
  return {
    verdict: r.verdict,
    outcome: r.outcome,
    xendConfigFormat: o.xendConfigFormat,
    sxprSent: o.sxprSent,
    wireBody: o.wireBody,
    localtimePaths: o.localtimePaths,
    rtcTimeoffsetPaths: o.rtcTimeoffsetPaths,
    clockBefore: o.clockBefore,
    clockAfter: o.clockAfter,
    libvirt: o.libvirt,
    xendError: o.xendError,
    effective: o.effective,
  };
}

const silentIO = () => ({
  out: (s: string) => log(s),
  err: (s: string) => log(s),
  isTTY: false,
  env: process.env,
  cwd: ROOT,
});

function labelledContainers(): string[] {
  // This run's containers only (ci/containers.sh sets the run id); without one, every container of ours.
  const id = process.env.XEND_COMPAT_RUN_ID;
  const label = id ? `label=org.xend-compat.run=${id}` : "label=org.xend-compat=true";
  const out = execFileSync("docker", ["ps", "-a", "-q", "--filter", label], { encoding: "utf8" });
  return out.split("\n").filter(Boolean);
}

// ---- recordings for the replay tests -----------------------------------------------------
let recordings: { dir: string; version: string; source: string } | undefined;
let noRecordings: string | undefined;
let tmpRecordings: string | undefined;

async function prepareRecordings(): Promise<void> {
  const shipped = shippedVersion();
  if (shipped) {
    recordings = { dir: path.join(ROOT, "fixtures", "recordings"), version: shipped, source: "shipped" };
    return;
  }
  if (!TREE || !PYTHON) {
    noRecordings = "no recordings shipped yet (and no Xen tree + Python 2.7 here to record some from the real xend)";
    return;
  }
  // Record a few define+read cells from the real xend (in-process sandbox) into a temporary directory.
  tmpRecordings = fs.mkdtempSync(path.join(os.tmpdir(), "xend-compat-container-test-"));
  const cells = defineReadCells(TREE.version, "0.9.11").slice(0, 4);
  const r = await recordCells({
    cells,
    backendFor: () => createBackend({ kind: "sandbox", xendVersion: TREE.version, xenSrc: TREE.dir, log }),
    xend: TREE.version,
    outDir: tmpRecordings,
    io: silentIO(),
  });
  if (r.written.length === 0) {
    noRecordings = `no recordings shipped yet, and recording from the sandbox failed: ${r.failed.map((f) => f.why).join("; ")}`;
    return;
  }
  recordings = { dir: tmpRecordings, version: TREE.version, source: `recorded now from the real xend ${TREE.version} (${TREE.dir})` };
}

let distDir: string | undefined;
/** The replay image carries the built project: build it once into a temporary outDir (never the repo's dist/). */
async function buildDist(): Promise<string> {
  if (distDir) return distDir;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "xend-compat-container-dist-"));
  const r = await execa(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", path.join(ROOT, "tsconfig.build.json"), "--outDir", out], { cwd: ROOT, reject: false });
  expect(r.exitCode, `tsc -p tsconfig.build.json --outDir ${out} failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  expect(fs.existsSync(path.join(out, "harness", "container", "replay-main.js"))).toBe(true);
  // The image is staged from this build, not from ROOT/dist.
  const dist = replayEntries(ROOT, "0.0", out, out).filter((e) => e.dest.startsWith(path.join("app", "dist")));
  expect(dist.length).toBeGreaterThan(0);
  for (const e of dist) expect(e.src.startsWith(out + path.sep), e.src).toBe(true);
  distDir = out;
  return out;
}

// ---- tests that need no engine -----------------------------------------------------------
describe("image build progress", () => {
  it("on a TTY rewrites one line; otherwise writes one line per step", () => {
    const tty: string[] = [];
    const p = makeProgress({ isTTY: true, write: (s) => tty.push(s), prefix: "[c]" });
    p.step("step 1/3 FROM base");
    p.step("step 2/3 COPY");
    p.done("built x");
    expect(tty.join("")).not.toMatch(/\n.*\n/);
    expect(tty.every((s) => s.startsWith("\r") || s === "\n")).toBe(true);
    expect(tty[tty.length - 1]).toBe("\n");
    const plain: string[] = [];
    const q = makeProgress({ isTTY: false, write: (s) => plain.push(s), prefix: "[c]" });
    q.step("step 1/3 FROM base");
    q.done("built x");
    expect(plain).toEqual(["[c] step 1/3 FROM base\n", "[c] built x\n"]);
  });
});

describe("container backend without an engine", () => {
  it("run --help says what --backend container does without a Xen tree (replays recordings in a container)", () => {
    const help = runCommand.help.replace(/\s+/g, " ");
    expect(help).toContain("container replays the recordings in a container");
    expect(help).not.toMatch(/without them the cells are skipped/);
  });

  it("refuses with the reason ci/containers.sh exported, before touching Docker", async () => {
    const saved = process.env.XEND_COMPAT_NO_ENGINE;
    process.env.XEND_COMPAT_NO_ENGINE = "dockerd did not start (test)";
    try {
      const e = await startContainerBackend({ xendVersion: "4.1.2" }).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(isHarnessError(e) && e.code).toBe("backend.unavailable");
      expect(String((e as Error).message)).toContain("dockerd did not start (test)");
    } finally {
      if (saved === undefined) delete process.env.XEND_COMPAT_NO_ENGINE;
      else process.env.XEND_COMPAT_NO_ENGINE = saved;
    }
  });

  it("a container that fails to start: backend.unavailable with the container's last output lines", async () => {
    const starter: ContainerStarter = async (spec) => {
      spec.output?.("XEND-COMPAT-FAILED {\"error\": \"no xend in the tree\"}");
      throw new Error("Log stream ended and message \"XEND-COMPAT-READY\" was not received");
    };
    const e = await ContainerBackend.start({
      xendVersion: "4.1.2",
      mode: "replay",
      image: "xend-compat/replay:test",
      provenance: { xendVersion: "4.1.2", tree: "t", commit: "c", tz: "UTC" },
      concurrency: 1,
      timeoutMs: 1000,
      startupTimeoutMs: 1000,
      log: () => {},
      starter,
    }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isHarnessError(e) && e.code).toBe("backend.unavailable");
    expect(String((e as Error).message)).toMatch(/did not start: Log stream ended[\s\S]*container output[\s\S]*no xend in the tree/);
    expect(runningContainers()).toBe(0);
  });

  it("replay mode without recordings of a version says which directory has none", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "xend-compat-empty-"));
    try {
      const starter: ContainerStarter = async () => {
        throw new Error("must not start");
      };
      await expect(startContainerBackend({ xendVersion: "4.1.2", recordingsDir: empty, starter })).rejects.toThrow(/needs recordings of xend 4\.1\.2/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

// ---- replay --------------------------------------------------------------------------------
describe("replay server (recordings of a real xend)", () => {
  beforeAll(async () => {
    await prepareRecordings();
    if (noRecordings) console.log(`[container tests] replay tests skipped: ${noRecordings}`);
    else console.log(`[container tests] recordings: xend ${recordings!.version}, ${recordings!.source}`);
  });

  it("in-process over loopback: the protocol gives exactly the in-process replay's results", async (ctx) => {
    if (!recordings) return ctx.skip(noRecordings);
    const rec = recordings;
    const server = await startReplayServer({ recordingsDir: rec.dir, xendVersion: rec.version, log });
    // The container backend's protocol, with the "container" being this process's server.
    const starter: ContainerStarter = async () => ({
      getId: () => "in-process-replay-server",
      getHost: () => "127.0.0.1",
      getMappedPort: (p: number) => (p === 8000 ? server.xendPort : server.controlPort),
      stop: () => server.close(),
    });
    const cells = expandCells(matrix(), { xend: [rec.version] });
    const viaServer = await runCells(cells, {
      backendFor: async () =>
        ContainerBackend.start({
          xendVersion: rec.version,
          mode: "replay",
          image: "in-process",
          provenance: { xendVersion: rec.version, tree: "test", commit: "test", tz: "test" },
          concurrency: 4,
          timeoutMs: 10_000,
          startupTimeoutMs: 10_000,
          log,
          starter,
        }),
    });
    const inProcess = await runCells(cells, { backendFor: async () => new RecordedBackend({ dir: rec.dir, xendVersion: rec.version }) });
    expect(viaServer.map(comparable)).toEqual(inProcess.map(comparable));
    // Not vacuous: some cells really replayed (the others are unmatched in both, with the same error).
    const played = viaServer.filter((r) => r.verdict !== "error" && r.verdict !== "skipped").length;
    expect(played).toBeGreaterThan(0);
    // Replayed in a container, not a real xend in a container: the run's last line says so.
    expect(viaServer.every((r) => r.backend === null || (r.backend === "container" && r.replayed === true))).toBe(true);
    expect(inProcess.every((r) => r.replayed === undefined)).toBe(true);
    const line = summaryLine(viaServer);
    expect(line).toContain(` 0 in a container, ${played} replayed (in a container), 0 replayed,`);
    expect(summaryLine(inProcess)).not.toContain("(in a container)");
    // The JSON report keeps it, and so does a merge of shards (which rebuilds cells from the JSON).
    const jsonText = await render("json", makeReport({ name: "m", file: DEFAULT_MATRIX }, "container", viaServer));
    const merged = mergeShards([
      readShardReport("shard.json", addShardToJson(jsonText, shardInfo(parseShard("1/1"), viaServer.map((r) => r.id), fromRoot(DEFAULT_MATRIX)))),
    ]);
    expect(summaryLine(merged.report.results)).toBe(line);
    const json = JSON.parse(jsonText) as {
      summary: { container: number; containerReplayed: number };
      cells: { replayed?: boolean }[];
    };
    expect(json.summary).toMatchObject({ container: 0, containerReplayed: played });
    expect(json.cells.filter((c) => c.replayed === true).length).toBe(viaServer.filter((r) => r.backend === "container").length);
  });

  describe.skipIf(Boolean(NO_ENGINE))(`in a container${NO_ENGINE ? ` (skipped: ${NO_ENGINE})` : ""}`, () => {
    let backend: ContainerBackend | undefined;
    beforeAll(async () => {
      if (!recordings) return;
      const dist = await buildDist();
      backend = await startContainerBackend({ xendVersion: recordings.version, recordingsDir: recordings.dir, distDir: dist, log, isTTY: false });
    });
    afterAll(async () => {
      await backend?.close();
    });

    it("starts the replay image; GET /xend/node/ through the mapped port gives a real xend's node reply", async (ctx) => {
      if (!backend) return ctx.skip(noRecordings);
      const target = backend.target();
      expect(target).toMatchObject({ kind: "tcp", host: "127.0.0.1" });
      expect(target.kind === "tcp" && target.port).not.toBe(8000);
      const res = await exchange(target, libvirtGet("/xend/node/"));
      expect(res.status).toBe(200);
      expect(res.body).toMatch(/\(xend_config_format \d+\)/);
      expect(labelledContainers()).toContain(backend.containerId()!.slice(0, 12));
      expect(backend.image).toMatch(/^xend-compat\/replay:[\d.]+-[0-9a-f]{12}$/);
    });

    it("runs the cells of one xend version through the container and gets the in-process replay's results", async (ctx) => {
      if (!backend || !recordings) return ctx.skip(noRecordings);
      const b = backend;
      const cells = expandCells(matrix(), { xend: [recordings.version] });
      const inContainer = await runCells(cells, { backendFor: async () => b, closeBackends: false });
      const inProcess = await runCells(cells, { backendFor: async () => new RecordedBackend({ dir: recordings!.dir, xendVersion: recordings!.version }) });
      expect(inContainer.map(comparable)).toEqual(inProcess.map(comparable));
      expect(inContainer.every((r) => r.backend === "container" || r.backend === null)).toBe(true);
      expect(inContainer.filter((r) => r.verdict !== "error" && r.verdict !== "skipped").length).toBeGreaterThan(0);
    });

    it("a cell with no recording fails as in-process replay does (backend.unmatched naming the record command)", async (ctx) => {
      if (!backend) return ctx.skip(noRecordings);
      // As in-process: a recording of the same conversation may answer such a cell, so the session may
      // open; the first request that no recording sends is then refused, naming the record command.
      const e = await backend.open(`${backend.xendVersion}/0.9.11/no-such-scenario`).then(
        (s) => s.send({ method: "GET", path: "/xend/node/", headers: [["Host", "localhost:8000"]], body: "" }, "0-node").then(() => undefined, (x: unknown) => x),
        (x: unknown) => x,
      );
      expect(isHarnessError(e) && e.code).toBe("backend.unmatched");
      expect(String((e as Error).message)).toContain("xend-compat record");
    });

    it("close() stops and removes the container", async (ctx) => {
      if (!backend) return ctx.skip(noRecordings);
      const id = backend.containerId()!.slice(0, 12);
      await backend.close();
      expect(labelledContainers()).not.toContain(id);
      expect(runningContainers()).toBe(0);
      await expect(backend.open("x/y/z")).rejects.toThrow(/closed/);
    });
  });
});

// ---- lifecycle, ports and HTTP without any recording -------------------------------------
describe.skipIf(Boolean(NO_ENGINE))(`replay image lifecycle with no recordings${NO_ENGINE ? ` (skipped: ${NO_ENGINE})` : ""}`, () => {
  it("builds the image, starts it, answers on the mapped ports (control /health, xend's replay error), stops it", async () => {
    const dist = await buildDist();
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "xend-compat-no-recordings-"));
    const lines: string[] = [];
    try {
      const image = await ensureReplayImage({
        root: ROOT,
        xendVersion: "0.0",
        recordingsDir: empty,
        distDir: dist,
        progress: makeProgress({ isTTY: false, write: (s) => (lines.push(s.trimEnd()), log(s.trimEnd())) }),
      });
      expect(image).toMatch(/^xend-compat\/replay:0\.0-[0-9a-f]{12}$/);
      expect(lines.some((l) => /building|reusing/.test(l))).toBe(true);
      const c = await startWithTestcontainers({
        image,
        command: ["--xend", "0.0"],
        labels: { "org.xend-compat": "true", "org.xend-compat.mode": "replay" },
        readyLine: "XEND-COMPAT-READY",
        probeXend: false,
        startupTimeoutMs: 30_000,
        log,
      });
      log(`[container tests] started ${c.getId().slice(0, 12)} from ${image}`);
      try {
        expect(c.getHost()).toBe("127.0.0.1");
        // Published on the loopback only: xend and the control channel are unauthenticated.
        const { stdout } = await execa("docker", ["inspect", "--format", "{{json .HostConfig.PortBindings}}|{{json .NetworkSettings.Ports}}", c.getId()]);
        const [wanted, actual] = stdout.split("|").map((j) => JSON.parse(j) as Record<string, Array<{ HostIp: string; HostPort: string }>>);
        expect(Object.keys(wanted).sort()).toEqual([`${protocol.XEND_PORT}/tcp`, `${protocol.CONTROL_PORT}/tcp`].sort());
        for (const b of [...Object.values(wanted), ...Object.values(actual)]) {
          expect(b.length).toBeGreaterThan(0);
          for (const x of b) expect(x.HostIp).toBe(LOOPBACK);
        }
        expect(LOOPBACK).toBe("127.0.0.1");
        const health = await fetch(`http://${c.getHost()}:${c.getMappedPort(protocol.CONTROL_PORT)}${protocol.HEALTH_PATH}`);
        expect(await health.json()).toMatchObject({ ok: true, kind: "replay", xendVersion: "0.0", recordings: 0 });
        const res = await exchange({ kind: "tcp", host: c.getHost(), port: c.getMappedPort(protocol.XEND_PORT) }, libvirtGet("/xend/node/"));
        expect(res.status).toBe(protocol.REPLAY_ERROR_STATUS);
        expect(res.headers).toContainEqual([protocol.ERROR_HEADER, "backend.unmatched"]);
        expect(labelledContainers()).toContain(c.getId().slice(0, 12));
      } finally {
        await c.stop();
        log(`[container tests] stopped ${c.getId().slice(0, 12)}`);
      }
      expect(labelledContainers()).not.toContain(c.getId().slice(0, 12));
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe.skipIf(Boolean(NO_ENGINE))(`stop on signals${NO_ENGINE ? ` (skipped: ${NO_ENGINE})` : ""}`, () => {
  it("SIGTERM to a process holding a container backend stops and removes its container", async () => {
    const dist = await buildDist();
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "xend-compat-signal-"));
    const image = await ensureReplayImage({ root: ROOT, xendVersion: "0.0", recordingsDir: empty, distDir: dist, progress: makeProgress({ isTTY: false, write: () => {} }) });
    fs.rmSync(empty, { recursive: true, force: true });
    const script = path.join(os.tmpdir(), `xend-compat-signal-${process.pid}.mts`);
    const index = path.join(ROOT, "harness", "container", "index.ts");
    fs.writeFileSync(
      script,
      [
        `import { ContainerBackend, startWithTestcontainers } from ${JSON.stringify(index)};`,
        `const b = await ContainerBackend.start({ xendVersion: "0.0", mode: "replay", image: ${JSON.stringify(image)}, command: ["--xend", "0.0"],`,
        `  provenance: { xendVersion: "0.0", tree: "t", commit: "c", tz: "UTC" }, concurrency: 1, timeoutMs: 5000, startupTimeoutMs: 30000,`,
        `  log: () => {}, starter: (spec) => startWithTestcontainers({ ...spec, probeXend: false }) });`,
        `console.log("READY " + b.containerId());`,
        `setInterval(() => {}, 1000);`,
      ].join("\n"),
    );
    try {
      const { spawn } = await import("node:child_process");
      const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stderr.on("data", (d: Buffer) => (err += String(d)));
      const id = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          out += String(d);
          const m = /READY (\w+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on("exit", (code) => reject(new Error(`child exited (${code}) before READY: ${err}`)));
      });
      expect(labelledContainers()).toContain(id.slice(0, 12));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_c, sig) => resolve(sig)));
      child.kill("SIGTERM");
      expect(await exited).toBe("SIGTERM");
      expect(labelledContainers()).not.toContain(id.slice(0, 12));
      log(`[container tests] SIGTERM: container ${id.slice(0, 12)} removed, process ended by SIGTERM`);
    } finally {
      fs.rmSync(script, { force: true });
    }
  });
});

// ---- the real xend in a container ----------------------------------------------------------
describe.skipIf(Boolean(NO_SANDBOX))(`sandbox image: the real xend of a Xen tree${NO_SANDBOX ? ` (skipped: ${NO_SANDBOX})` : ""}`, () => {
  it("runs one define+read cell in the container, with the in-process sandbox's result", async () => {
    const tree = TREE!;
    const cell = defineReadCells(tree.version, "0.9.11").find((c) => c.scenario.id === "hvm-localtime") ?? defineReadCells(tree.version)[0];
    expect(cell).toBeDefined();
    let b: Backend | undefined;
    const [inContainer] = await runCells([cell], {
      backendFor: async () => (b = await createBackend({ kind: "container", xendVersion: tree.version, xenSrc: tree.dir, log })),
    });
    expect(b?.kind).toBe("container");
    expect(inContainer.backend).toBe("container");
    expect(inContainer.verdict, inContainer.reason).not.toMatch(/^(error|skipped)$/);
    expect(inContainer.observation.localtimePaths.length).toBeGreaterThan(0);
    if (PYTHON) {
      // Same xend, same fakes: the same clock story. (Raw replies differ where xend reports its host:
      // host name, the Location port, fresh device uuids.)
      const [inProcess] = await runCells([cell], { backendFor: async () => createBackend({ kind: "sandbox", xendVersion: tree.version, xenSrc: tree.dir, log }) });
      expect(clockStory(inContainer)).toEqual(clockStory(inProcess));
    }
  });
});

afterAll(() => {
  if (tmpRecordings) fs.rmSync(tmpRecordings, { recursive: true, force: true });
  if (distDir) fs.rmSync(distDir, { recursive: true, force: true });
  if (!NO_ENGINE) {
    // Nothing this suite started may be left behind.
    expect(labelledContainers()).toEqual([]);
    console.log("[container tests] no org.xend-compat containers left");
  }
});
