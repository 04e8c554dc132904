/**
 * Nothing failing is green. A backend that cannot start (a sandbox without a Xen tree, an unusable
 * tree, no container engine, no live xend named) stops the run with its reason and exit 2 — also
 * under CI — instead of skipping every cell with exit 0. A xend version the backend does not have,
 * named in a matrix, is bad input before any cell runs, naming the matrix file, line and column and
 * the versions that do exist (not 70 error cells and exit 1). A golden that cannot be written with
 * --update-golden is exit 2 naming the file, never `pass` with nothing written.
 * (Live xend that does not answer, or answers as another version: test/faults.test.ts.)
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkGolden } from "../harness/run/golden.js";
import { execute } from "../harness/run/index.js";
import { runCli } from "./support/cli.js";
import { isHarnessError } from "../harness/errors.js";
import { recordedXendVersions } from "../harness/run/execute.js";
import { ROOT } from "./support/project-copy.js";

const dirs: string[] = [];
/** The xend versions the shipped recordings hold, as the messages list them. */
const RECORDED = recordedXendVersions(path.join(ROOT, "fixtures", "recordings")).join(", ");
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "xc-green-"));
  dirs.push(d);
  return d;
}

/**
 * A copy of the default matrix, changed by `edit`, in a scratch folder inside the project (a matrix's
 * domain files resolve against its own folder and must stay inside its project).
 */
function matrixCopy(edit: (text: string) => string): { file: string; text: string } {
  const dir = fs.mkdtempSync(path.join(ROOT, "test", ".green-"));
  dirs.push(dir);
  const text = edit(fs.readFileSync(path.join(ROOT, "matrices/default.yaml"), "utf8").replaceAll("domain: ../fixtures/", "domain: ../../fixtures/"));
  const file = path.join(dir, "m.yaml");
  fs.writeFileSync(file, text);
  return { file, text };
}

/** The line and column of `needle` in `text` (1-based). */
function posOf(text: string, needle: string): string {
  const i = text.indexOf(needle);
  const before = text.slice(0, i).split("\n");
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

describe("a backend that cannot start is an error with its reason, never a run of skips", () => {
  for (const env of [{}, { CI: "true" }]) {
    const ci = "CI" in env ? " (under CI=true)" : "";
    it(`sandbox without a Xen tree, --xend given: exit 2 naming the variable to set${ci}`, async () => {
      const r = await runCli(["run", "--backend", "sandbox", "--xend", "4.1.2", "--libvirt", "0.9.11"], { cwd: ROOT, env });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.err).toEqual([
        "xend-compat run: xend 4.1.2: no Xen tree for the sandbox (set XEND_COMPAT_XEN_SRC_4_1_2 to a tree holding tools/python; Xen trees named for: none) (--backend sandbox)",
      ]);
    });
  }

  it("sandbox without trees over the default matrix: exit 2 naming the matrix line of the first version, and the versions that have trees", async () => {
    const r = await runCli(["run", "--backend", "sandbox"], { cwd: ROOT, env: { CI: "1", XEND_COMPAT_XEN_SRC_4_1_2: "/nonexistent-tree" } });
    expect(r.code).toBe(2);
    const text = fs.readFileSync(path.join(ROOT, "matrices/default.yaml"), "utf8");
    expect(r.err).toEqual([
      `xend-compat run: matrices/default.yaml:${posOf(text, '"3.2"')}: xend 3.2: no Xen tree for the sandbox (set XEND_COMPAT_XEN_SRC_3_2 to a tree holding tools/python; Xen trees named for: 4.1.2) (--backend sandbox)`,
    ]);
  });

  it("sandbox with a tree that is not one: exit 2 with the sandbox's own reason, no cell reported", async () => {
    const empty = tmp();
    const r = await runCli(["run", "--backend", "sandbox", "--xend", "4.1.2", "--libvirt", "0.9.11", "--reporter", "json"], { cwd: ROOT, env: { XEND_COMPAT_XEN_SRC_4_1_2: empty } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^xend-compat run: --backend sandbox cannot play xend 4\.1\.2: /);
    expect(r.err[0]).toContain(empty);
  });

  it("container without an engine: exit 2 with the reason (was: every cell skipped, exit 0)", async () => {
    const saved = process.env.XEND_COMPAT_NO_ENGINE;
    process.env.XEND_COMPAT_NO_ENGINE = "dockerd did not start (test)";
    try {
      const r = await runCli(["run", "--backend", "container", "--xend", "4.1.2", "--libvirt", "0.9.11"], { cwd: ROOT, env: { CI: "true" } });
      expect(r.code).toBe(2);
      expect(r.err).toEqual(["xend-compat run: --backend container cannot play xend 4.1.2: the container backend cannot run here: dockerd did not start (test)"]);
    } finally {
      if (saved === undefined) delete process.env.XEND_COMPAT_NO_ENGINE;
      else process.env.XEND_COMPAT_NO_ENGINE = saved;
    }
  });

  it("live without a xend named: exit 2 saying how to name one", async () => {
    const r = await runCli(["run", "--backend", "live", "--xend", "4.1.2"], { cwd: ROOT, env: { CI: "true" } });
    expect(r.code).toBe(2);
    expect(r.err).toEqual(["xend-compat run: xend 4.1.2: no live xend named (--url, or XEND_COMPAT_LIVE_URL: http://host:port or unix:///path) (--backend live)"]);
  });

  it("support and explain stop the same way", async () => {
    const s = await runCli(["support", "--xend", "4.1.2"], { cwd: ROOT, env: {} });
    expect(s.code).toBe(0); // recorded: has 4.1.2
    const m = await runCli(["support", "--xend", "5.0"], { cwd: ROOT, env: {} });
    expect(m.code).toBe(2);
    expect(m.err).toEqual([`xend-compat support: xend 5.0: no recordings to replay in fixtures/recordings (recorded xend versions: ${RECORDED})`]);
  });
});

describe("a matrix naming a xend the backend does not have is bad input before any cell runs", () => {
  it("recorded: exit 2 at the matrix line of that entry, with the recorded versions (was: 70 error cells, exit 1)", async () => {
    const { file, text } = matrixCopy((t) => t.replace('xend: ["3.2", "3.4.3", "4.1.2"]', 'xend:\n  - "3.2"\n  - "4.0.9"\n  - "4.1.2"'));
    const started = Date.now();
    const r = await runCli(["run", "--matrix", file, "--reporter", "json"], { cwd: ROOT, env: {} });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.err).toEqual([`xend-compat run: ${file}:${posOf(text, '"4.0.9"')}: xend 4.0.9: no recordings to replay in fixtures/recordings (recorded xend versions: ${RECORDED})`]);
    // Before any cell ran: no progress, and fast (nothing was replayed).
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a shard of such a matrix fails the same way, whichever versions its slice holds", async () => {
    const { file } = matrixCopy((t) => t.replace('xend: ["3.2", "3.4.3", "4.1.2"]', 'xend: ["3.2", "9.9"]'));
    const r = await runCli(["run", "--matrix", file, "--shard", "1/4"], { cwd: ROOT, env: {} });
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/m\.yaml:\d+:\d+: xend 9\.9: no recordings to replay/);
  });

  it("container: a version with neither a Xen tree nor recordings is named with both lists", async () => {
    const { file, text } = matrixCopy((t) => t.replace('xend: ["3.2", "3.4.3", "4.1.2"]', 'xend: ["3.2", "3.9"]'));
    const r = await runCli(["run", "--matrix", file, "--backend", "container"], { cwd: ROOT, env: {} });
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      `xend-compat run: ${file}:${posOf(text, '"3.9"')}: xend 3.9: no Xen tree (XEND_COMPAT_XEN_SRC_3_9) and no recordings in fixtures/recordings for a container to play it (Xen trees named for: none; recorded xend versions: ${RECORDED}) (--backend container)`,
    ]);
  });
});

describe("a golden that cannot be written is a failure, never a pass", () => {
  it("checkGolden --update-golden: a write that fails throws input.golden naming the file (was: not-compared, pass)", async () => {
    const ex = await execute({ cwd: ROOT, env: {}, golden: null, xend: ["4.1.2"], libvirt: ["0.9.11"], scenario: "pv-utc" });
    const r = ex.results[0];
    expect(r.verdict).toBe("preserved");
    // A golden directory whose xend folder is a plain file: no user, root included, can write below it.
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "4.1.2"), "not a directory");
    let err: unknown;
    try {
      checkGolden(r, { dir, update: true, ci: false, displayRoot: dir });
    } catch (e) {
      err = e;
    }
    expect(isHarnessError(err, "input")).toBe(true);
    expect((err as Error).message).toContain(path.join(dir, "4.1.2/0.9.11/pv-utc.txt").replace(dir + "/", ""));
  });

  const canUnshare = process.getuid?.() === 0 && spawnSync("unshare", ["--mount", "--propagation", "private", "true"]).status === 0;
  const why = canUnshare ? "" : " (SKIPPED: needs root and unshare for a read-only bind mount in a private mount namespace)";
  it.skipIf(!canUnshare)(`run --update-golden on a read-only golden tree: exit 2 naming the golden, nothing written${why}`, () => {
    // A copy of the golden tree with one golden changed, mounted read-only over fixtures/golden in a
    // private mount namespace (the real tree is never touched; the mount vanishes with the process).
    const copy = tmp();
    fs.cpSync(path.join(ROOT, "fixtures", "golden"), copy, { recursive: true });
    // The default matrix's index names another (existing) golden for the cell: a mismatch to rewrite.
    const g = path.join(copy, "index", "default.tsv");
    const indexLines = fs.readFileSync(g, "utf8").split("\n");
    const other = indexLines.find((l) => l.startsWith("4.1.2/0.9.11/hvm-utc\t"))!.split("\t")[1];
    fs.writeFileSync(g, indexLines.map((l) => (l.startsWith("4.1.2/0.9.11/pv-utc\t") ? `4.1.2/0.9.11/pv-utc\t${other}` : l)).join("\n"));
    const golden = path.join(ROOT, "fixtures", "golden");
    const script = [
      `mount --bind "$1" "$2"`,
      `mount -o remount,bind,ro "$2"`,
      `exec node --import tsx harness/cli-dev.ts run --xend 4.1.2 --libvirt 0.9.11 --scenario pv-utc --update-golden`,
    ].join(" && ");
    const p = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", copy, golden], { cwd: ROOT, encoding: "utf8", env: { ...process.env, CI: "" } });
    const lines = p.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^xend-compat run: cannot write .*fixtures\/golden\/(index\/default\.tsv|objects\/[0-9a-f]{16}\.txt): EROFS/);
    expect(p.status).toBe(2);
    expect(fs.readFileSync(g, "utf8")).toContain(`4.1.2/0.9.11/pv-utc\t${other}`);
    // The host's tree is as it was.
    expect(execFileSync("git", ["status", "--porcelain", "fixtures/golden"], { cwd: ROOT, encoding: "utf8" })).toBe("");
  });
});
