/**
 * Paths built from names the user gave stay where they belong (harness/safepath.ts): versions,
 * scenario ids and cell ids are identifiers before they touch a path; golden and recording paths are
 * confined to their root after resolving symbolic links; a dangling or looping link is one clear
 * error (exit 2) naming the path, never a write elsewhere, a raw ENOENT or an internal error.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HarnessError, isHarnessError } from "../harness/errors.js";
import { resolveProfile } from "../harness/libvirt/index.js";
import { checkGolden, goldenPath, obsoleteGoldens, runCells, type CellResult } from "../harness/run/index.js";
import { execute } from "../harness/run/execute.js";
import { checkId, confine, forgetRealPaths } from "../harness/safepath.js";
import { recordingPath } from "../harness/xend/index.js";
import { cellsOf, domainXml, FakeXend, toyProfile } from "./fakes/run-fakes.js";
import { runCli } from "./support/cli.js";
import { ROOT } from "./support/project-copy.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  forgetRealPaths();
});
function tmp(): string {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "xc-safe-")));
  dirs.push(d);
  return d;
}

function inputError(f: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, "throws").toBeInstanceOf(HarnessError);
  expect(isHarnessError(err, "input"), String(err)).toBe(true);
  expect((err as HarnessError).oneLine()).toMatch(re);
  expect((err as HarnessError).oneLine()).not.toContain("\n");
}

/** Every file under `d`, relative. */
function files(d: string): string[] {
  return fs.existsSync(d) ? (fs.readdirSync(d, { recursive: true }) as string[]).filter((f) => fs.lstatSync(path.join(d, f)).isFile()).sort() : [];
}

describe("identifiers before paths", () => {
  it("a libvirt version with a second '+' (anything after it was ignored) is refused", () => {
    for (const v of ["0.8.7+rfc-localtime+/../../x", "0.8.7+rfc-localtime+", "0.8.7++rfc-localtime", "0.8.7+rfc-localtime/../x"])
      inputError(() => resolveProfile(v), /is not a libvirt version|unknown libvirt patch profile/);
    expect(resolveProfile("0.8.7+rfc-localtime").id).toBe("0.8.7+rfc-localtime");
  });

  it("goldenPath and recordingPath take identifiers only", () => {
    const d = tmp();
    for (const bad of [
      { xend: "4.1.2", libvirt: "0.8.7+rfc-localtime+/../../x", scenario: "pv-utc" },
      { xend: "..", libvirt: "0.9.11", scenario: "pv-utc" },
      { xend: "4.1.2", libvirt: "..", scenario: "pv-utc" },
      { xend: "4.1.2", libvirt: "0.9.11", scenario: "../../etc/x" },
      { xend: "4.1.2", libvirt: "0.9.11", scenario: "pv\nutc" },
    ]) {
      inputError(() => goldenPath(d, bad), /is not an identifier/);
      inputError(() => recordingPath(d, `${bad.xend}/${bad.libvirt}/${bad.scenario}`), /is not an identifier|bad cell id/);
    }
    expect(goldenPath(d, { xend: "4.1.2", libvirt: "0.8.7+rfc-localtime", scenario: "pv-utc" })).toBe(path.join(d, "4.1.2", "0.8.7+rfc-localtime", "pv-utc.txt"));
    expect(recordingPath(d, "4.1.2/0.8.7+rfc-localtime/pv-utc")).toBe(path.join(d, "4.1.2", "0.8.7%2Brfc-localtime", "pv-utc.yaml"));
    expect(() => checkId("xend version", "4.1.2")).not.toThrow();
  });

  it("run --libvirt '0.8.7+rfc-localtime+/../../../../x' --update-golden: exit 2, nothing written anywhere", async () => {
    const top = tmp();
    const goldenDir = path.join(top, "fixtures", "golden");
    const attempt = (libvirt: string) =>
      execute({ matrix: path.join(ROOT, "matrices", "default.yaml"), libvirt: [libvirt], xend: ["4.1.2"], scenario: "pv-utc", cwd: top, env: {}, golden: { update: true }, goldenDir, backendFor: async () => new FakeXend("4.1.2") });
    for (const v of ["0.8.7+rfc-localtime+/../../../../x", "0.8.7+rfc-localtime+x"]) {
      await expect(attempt(v)).rejects.toSatisfy((e) => isHarnessError(e, "input"));
    }
    expect(files(top)).toEqual([]);
    // and through the CLI: the same one line and exit 2 as any bad --libvirt
    const r = await runCli(["run", "--libvirt", "0.8.7+rfc-localtime+/../../x", "--update-golden"], { cwd: ROOT });
    expect(r.code).toBe(2);
    expect(r.err).toEqual([expect.stringMatching(/^xend-compat run: --libvirt: '0\.8\.7\+rfc-localtime\+\/\.\.\/\.\.\/x' is not a libvirt version/)]);
  });

  it("the same version in a matrix's libvirt list is refused at its line and column", async () => {
    const top = tmp();
    const m = path.join(top, "m.yaml");
    fs.writeFileSync(m, `name: m\nxend: ["4.1.2"]\nlibvirt: ["0.9.11", "0.8.7+rfc-localtime+/../../x"]\nscenarios:\n  - {id: pv-utc, description: d, domain: fixtures/domains/pv-utc.xml, steps: [define, read]}\n`);
    const r = await runCli(["run", "--matrix", m, "--update-golden"], { cwd: ROOT });
    expect(r.code).toBe(2);
    expect(r.err).toEqual([expect.stringMatching(/m\.yaml:3:21: '0\.8\.7\+rfc-localtime\+\/\.\.\/\.\.\/x' is not a libvirt version/)]);
  });
});

describe("paths confined after resolving links", () => {
  const MATRIX = `name: g\nxend: ["4.1.2"]\nlibvirt: ["0.9.11"]\nscenarios:\n  - {id: hvm-lt, description: d, domain: d/lt.xml, steps: [define, read]}\n`;
  const FILES = { "d/lt.xml": domainXml("lt", "<clock offset='localtime'/>") };
  const run = (dir: string, update: boolean) =>
    runCells(cellsOf(MATRIX, FILES), { backendFor: async () => new FakeXend(), profileFor: () => toyProfile(), golden: { dir, update, ci: false } });

  it("a golden that is a link out of the golden tree is neither read nor written through", async () => {
    const top = tmp();
    const dir = path.join(top, "golden");
    const outside = path.join(top, "outside.txt");
    fs.writeFileSync(outside, "precious\n");
    fs.mkdirSync(path.join(dir, "4.1.2", "0.9.11"), { recursive: true });
    fs.symlinkSync(outside, path.join(dir, "4.1.2", "0.9.11", "hvm-lt.txt"));
    await expect(run(dir, true)).rejects.toThrow(/golden .*hvm-lt\.txt: resolves to .*outside\.txt, outside .*golden/);
    expect(fs.readFileSync(outside, "utf8")).toBe("precious\n");
    // a directory link out of the tree, too
    fs.rmSync(path.join(dir, "4.1.2"), { recursive: true });
    fs.mkdirSync(path.join(top, "elsewhere"));
    fs.symlinkSync(path.join(top, "elsewhere"), path.join(dir, "4.1.2"));
    forgetRealPaths();
    await expect(run(dir, true)).rejects.toThrow(/golden .*4\.1\.2 resolves to .*elsewhere, outside/);
    expect(files(path.join(top, "elsewhere"))).toEqual([]);
  });

  it("a link that stays inside the tree is followed", async () => {
    const dir = path.join(tmp(), "golden");
    fs.mkdirSync(path.join(dir, "real"), { recursive: true });
    fs.symlinkSync(path.join(dir, "real"), path.join(dir, "4.1.2"));
    const rs = await run(dir, true);
    expect(rs[0].golden?.status).toBe("written");
    expect(files(path.join(dir, "real"))).toEqual(["0.9.11/hvm-lt.txt"]);
  });

  it("a dangling or looping link where a golden belongs: exit-2 error naming it (not a missing golden, not ENOENT)", async () => {
    for (const make of [(p: string) => fs.symlinkSync(path.join(path.dirname(p), "nowhere.txt"), p), (p: string) => fs.symlinkSync(p, p)]) {
      const dir = path.join(tmp(), "golden");
      const g = path.join(dir, "4.1.2", "0.9.11", "hvm-lt.txt");
      fs.mkdirSync(path.dirname(g), { recursive: true });
      make(g);
      for (const update of [false, true]) await expect(run(dir, update)).rejects.toThrow(/golden .*hvm-lt\.txt: is a (dangling symbolic link|symbolic link loop)/);
      expect(fs.lstatSync(g).isSymbolicLink()).toBe(true);
    }
  });

  it("the obsolete-golden scan: a dangling link, a loop and a link out are exit-2 errors naming the path", () => {
    const cases: [string, (d: string) => void, RegExp][] = [
      ["dangling", (d) => fs.symlinkSync(path.join(d, "nowhere"), path.join(d, "4.1.2", "x.txt")), /x\.txt: is a dangling symbolic link/],
      ["self loop", (d) => fs.symlinkSync(path.join(d, "4.1.2", "y"), path.join(d, "4.1.2", "y")), /y: is a symbolic link loop/],
      ["directory loop", (d) => fs.symlinkSync(d, path.join(d, "4.1.2", "up")), /a symbolic link loop \(back to/],
      ["out", (d) => fs.symlinkSync(os.tmpdir(), path.join(d, "4.1.2", "tmp")), /tmp: resolves to .*, outside/],
    ];
    for (const [what, make, re] of cases) {
      const d = path.join(tmp(), "golden");
      fs.mkdirSync(path.join(d, "4.1.2"), { recursive: true });
      make(d);
      inputError(() => obsoleteGoldens(d, []), re);
      void what;
    }
  });

  it("a recording that is a link out of the recordings folder is not replayed: exit 2 naming it", async () => {
    const top = tmp();
    const recs = path.join(top, "recordings", "4.1.2", "0.9.11");
    fs.mkdirSync(recs, { recursive: true });
    // a real recording, but outside the folder named by --recordings
    fs.copyFileSync(path.join(ROOT, "fixtures/recordings/4.1.2/0.9.11/pv-utc.yaml"), path.join(top, "elsewhere.yaml"));
    fs.symlinkSync(path.join(top, "elsewhere.yaml"), path.join(recs, "pv-utc.yaml"));
    const r = await runCli(["run", "--recordings", path.join(top, "recordings"), "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-utc"], { cwd: ROOT });
    expect(r.code).toBe(2);
    expect(r.err).toEqual([expect.stringMatching(/^xend-compat run: recording .*pv-utc\.yaml: resolves to .*elsewhere\.yaml, outside .*recordings$/)]);
    // inside the folder, a link is followed
    fs.rmSync(path.join(recs, "pv-utc.yaml"));
    fs.renameSync(path.join(top, "elsewhere.yaml"), path.join(top, "recordings", "kept.yaml"));
    fs.symlinkSync(path.join(top, "recordings", "kept.yaml"), path.join(recs, "pv-utc.yaml"));
    forgetRealPaths();
    const ok = await runCli(["run", "--recordings", path.join(top, "recordings"), "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-utc", "--reporter", "json"], { cwd: ROOT });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("confine: lexical escapes and links out are refused; a root that does not exist yet confines lexically", () => {
    const top = tmp();
    inputError(() => confine(path.join(top, "r"), path.join(top, "r", "..", "x"), "golden"), /outside/);
    expect(confine(path.join(top, "r"), path.join(top, "r", "a", "b"), "golden")).toBe(path.join(top, "r", "a", "b"));
  });

  it("checkGolden of a result whose version is not an identifier is an input error (nothing written)", () => {
    const dir = path.join(tmp(), "golden");
    const r = { id: "x", xend: "4.1.2", libvirt: "0.9.11/../../..", scenario: "pv-utc", verdict: "preserved" } as CellResult;
    inputError(() => checkGolden(r, { dir, update: true, ci: false }), /is not an identifier/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});
