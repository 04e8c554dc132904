/**
 * The project config (xend-compat.config.{json,yaml} or an "xend-compat" key in package.json, found
 * upwards from the working directory) and recording layers: the user's files are found without
 * options, written where the config says and never into node_modules; a cell replays from the top-most
 * layer holding its recording.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { findProjectConfig, readConfig } from "../harness/config/index.js";
import { HarnessError } from "../harness/errors.js";
import { main, type CliIO } from "../harness/cli.js";

const ROOT = path.resolve(import.meta.dirname, "..");

function tmp(files: Record<string, string> = {}): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "xc-config-")));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

function io(cwd: string, env: NodeJS.ProcessEnv = {}): CliIO & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return { out: (s) => (out += s + "\n"), err: (s) => (err += s + "\n"), isTTY: false, env, cwd, stdout: () => out, stderr: () => err };
}

function errorOf(f: () => unknown): HarnessError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(HarnessError);
    return e as HarnessError;
  }
  throw new Error("expected an error");
}

describe("project config", () => {
  it("is found upwards from the working directory; paths are relative to the file that holds them", () => {
    const dir = tmp({ "xend-compat.config.yaml": "matrix: m/ours.yaml\ngoldens: g\nrecordings: [r1, r2]\n", "sub/deeper/.keep": "" });
    expect(findProjectConfig(path.join(dir, "sub", "deeper"))).toEqual({
      file: path.join(dir, "xend-compat.config.yaml"),
      matrix: path.join(dir, "m", "ours.yaml"),
      goldens: path.join(dir, "g"),
      recordings: [path.join(dir, "r1"), path.join(dir, "r2")],
    });
  });

  it("comes from JSON or from an xend-compat key in package.json; a package.json without it is passed by", () => {
    const json = tmp({ "xend-compat.config.json": '{"recordings": "rec"}' });
    expect(findProjectConfig(json)?.recordings).toEqual([path.join(json, "rec")]);
    const pkg = tmp({ "package.json": '{"name": "mine", "xend-compat": {"goldens": "golden"}}' });
    expect(findProjectConfig(pkg)?.goldens).toBe(path.join(pkg, "golden"));
    const outer = tmp({ "xend-compat.config.yaml": "goldens: outer\n", "inner/package.json": '{"name": "x"}' });
    expect(findProjectConfig(path.join(outer, "inner"))?.goldens).toBe(path.join(outer, "outer"));
  });

  it.skipIf(process.getuid?.() !== 0)("a config owned by another user (e.g. planted in a shared /tmp) is refused by name (needs root to chown)", () => {
    const dir = tmp({ "xend-compat.config.yaml": "goldens: g\n", "sub/.keep": "" });
    fs.chownSync(path.join(dir, "xend-compat.config.yaml"), 12345, 12345);
    expect(errorOf(() => findProjectConfig(path.join(dir, "sub"))).oneLine()).toMatch(/refusing the project config .*xend-compat\.config\.yaml: it belongs to user id 12345, not to you/);
    const pkg = tmp({ "package.json": '{"name": "x", "xend-compat": {"goldens": "g"}}' });
    fs.chownSync(path.join(pkg, "package.json"), 12345, 12345);
    expect(() => findProjectConfig(pkg)).toThrow(/belongs to user id 12345/);
  });

  it("bad config is one error naming the file, line and column", () => {
    expect(errorOf(() => readConfig("/p/xend-compat.config.yaml", "goldens: g\nrecordngs: r\n")).oneLine()).toMatch(/^\/p\/xend-compat\.config\.yaml:2:1: unknown key 'recordngs' \(known: matrix, goldens, recordings, build-in\)/);
    expect(errorOf(() => readConfig("/p/xend-compat.config.yaml", "goldens: [a\n")).oneLine()).toMatch(/^\/p\/xend-compat\.config\.yaml:\d+:\d+: not valid YAML/);
    expect(errorOf(() => readConfig("/p/xend-compat.config.yaml", "recordings: 3\n")).oneLine()).toMatch(/^\/p\/xend-compat\.config\.yaml:1:1: recordings: expected a directory or a list of directories/);
    expect(errorOf(() => readConfig("/p/xend-compat.config.json", '{"matrix": }')).oneLine()).toMatch(/^\/p\/xend-compat\.config\.json:1:\d+: not valid JSON/);
  });

  it("build-in: where src:DIR trees build (host, container, auto), checked", () => {
    expect(readConfig("/p/xend-compat.config.yaml", "build-in: container\n").buildIn).toBe("container");
    expect(readConfig("/p/xend-compat.config.yaml", "goldens: g\n").buildIn).toBeUndefined();
    expect(errorOf(() => readConfig("/p/xend-compat.config.yaml", "goldens: g\nbuild-in: vm\n")).oneLine()).toMatch(/^\/p\/xend-compat\.config\.yaml:2:1: build-in: expected host, container or auto/);
  });
});

describe("recording layers and where things are written", () => {
  it("a cell replays from the top-most layer holding its recording; the others from the shipped ones", async () => {
    // The user's layer holds one cell whose xend answered differently (a guest RTC offset of 9 s in the
    // read-back, same length as the shipped 0): that cell (only) takes it.
    const shipped = fs.readFileSync(path.join(ROOT, "fixtures/recordings/4.1.2/0.9.11/hvm-utc.yaml"), "utf8");
    const theirs = shipped.replace(/(body: "\(domain [^\n]*?\(rtc_timeoffset )0\)/, "$19)");
    expect(theirs).not.toBe(shipped);
    const dir = tmp({ "rec/4.1.2/0.9.11/hvm-utc.yaml": theirs, "xend-compat.config.yaml": "recordings: rec\n" });
    const o = io(dir);
    expect(await main(["run", "--matrix", path.join(ROOT, "matrices", "default.yaml"), "--xend", "4.1.2", "--libvirt", "0.9.11", "--reporter", "json"], o)).toBe(1);
    const cells = JSON.parse(o.stdout()).cells as Array<{ id: string; verdict: string; reason: string }>;
    const differs = cells.filter((c) => c.verdict === "changed");
    expect(differs.map((c) => c.id)).toEqual(["4.1.2/0.9.11/hvm-utc"]);
    expect(differs[0].reason).toMatch(/adjustment='9'/);
    expect(cells.filter((c) => c.verdict === "error")).toEqual([]);
    // --recordings replaces the config's layers: without the broken one, everything is as expected.
    const empty = tmp();
    expect(await main(["run", "--matrix", path.join(ROOT, "matrices", "default.yaml"), "--xend", "4.1.2", "--libvirt", "0.9.11", "--recordings", empty], io(dir))).toBe(0);
  });

  it("goldens and recordings are never written into node_modules", async () => {
    const dir = tmp({ "node_modules/xend-compat/golden/.keep": "", "xend-compat.config.yaml": "goldens: node_modules/xend-compat/golden\nrecordings: node_modules/xend-compat/rec\n" });
    const g = io(dir);
    expect(await main(["run", "--matrix", path.join(ROOT, "matrices", "default.yaml"), "--xend", "4.1.2", "--update-golden"], g)).toBe(2);
    expect(g.stderr()).toMatch(/goldens would be written into .*node_modules.*; name your own directory/);
    const r = io(dir);
    expect(await main(["record", "--backend", "live", "--url", "http://127.0.0.1:9", "--xend", "4.1.2", "--matrix", path.join(ROOT, "matrices", "default.yaml")], r)).toBe(2);
    expect(r.stderr()).toMatch(/recordings would be written into .*node_modules/);
    expect(fs.readdirSync(path.join(dir, "node_modules", "xend-compat", "golden"))).toEqual([".keep"]);
  });
});
