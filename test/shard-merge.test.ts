/**
 * `run --shard I/N` and `xend-compat merge`: slices are disjoint, cover every cell and do not depend
 * on the order cells come in; the merge of all shards gives the unsharded run's cells and support
 * answers (through the CLI over the recordings, and in-process over a fake backend for every verdict);
 * overlapping, missing, foreign, tampered or malformed shards are refused with exit code 2.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync, cpSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fc, test as fcTest } from "@fast-check/vitest";
import { beforeAll, describe, expect, it } from "vitest";
import { main, type CliIO } from "../harness/cli.js";
import { HarnessError } from "../harness/errors.js";
import { DEFAULT_MATRIX, fromRoot, projectRoot, RECORDINGS_DIR } from "../harness/matrix/index.js";
import { makeReport, renderJson } from "../harness/report/index.js";
import { execute } from "../harness/run/index.js";
import { addShardToJson, jsonErrorOffset, lineColAt, offsetOfPath, mergeShards, parseShard, readShardReport, shardIds, shardInfo, sliceCells } from "../harness/shard/index.js";
import { FakeXend } from "./report-html.fake-xend.js";

function io(cwd = projectRoot()): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  // No CI: goldens are compared but a missing one does not fail (the run's exit code is what it is).
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.CI;
  return { out: (s) => stdout.push(s), err: (s) => stderr.push(s), isTTY: false, env, cwd, stdout, stderr };
}

async function cli(args: string[], cwd?: string) {
  const x = io(cwd);
  const code = await main(args, x);
  return { code, out: x.stdout.join("\n"), err: x.stderr.join("\n") };
}


/** Cells without their durations (the only field two runs of the same cells may differ in). */
function untimed(cells: unknown[]): unknown[] {
  return (cells as Array<Record<string, unknown>>).map(({ durationMs: _t, ...rest }) => rest);
}

describe("--shard I/N: parsing", () => {
  it("takes I/N with 1 ≤ I ≤ N", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
    expect(parseShard("1/1")).toEqual({ index: 1, count: 1 });
  });
  it.each(["0/3", "4/3", "1/0", "a/b", "3", "", "1/3/5", "-1/3", "1.5/3", "1/1001"])("refuses %j naming --shard", (bad) => {
    expect(() => parseShard(bad)).toThrow(HarnessError);
    try {
      parseShard(bad);
    } catch (e) {
      expect((e as HarnessError).code).toBe("input.usage");
      expect((e as HarnessError).message).toContain(`--shard '${bad}'`);
    }
  });
  it("a bad --shard makes run exit 2 with one line naming the argument, before running anything", async () => {
    const r = await cli(["run", "--shard", "4/3", "--reporter", "json"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--shard '4\/3': I must be between 1 and N/);
    expect(r.err.split("\n").filter((l) => l.includes("--shard"))).toHaveLength(1);
    expect(r.out).toBe("");
  });
});

describe("shard slices", () => {
  const ids = fc.uniqueArray(fc.stringMatching(/^[0-9.]{1,5}\/[0-9a-z.+]{1,6}\/[a-z-]{1,8}$/), { maxLength: 60 });

  fcTest.prop([ids, fc.integer({ min: 1, max: 12 })])("are disjoint, cover every id, and differ in size by at most one", (list, n) => {
    const parts = Array.from({ length: n }, (_, i) => shardIds(list, { index: i + 1, count: n }));
    const all = parts.flat();
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort()).toEqual([...list].sort());
    const sizes = parts.map((p) => p.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  fcTest.prop([ids, fc.integer({ min: 1, max: 12 }), fc.nat()])("do not depend on the order the cells come in", (list, n, seed) => {
    const shuffled = [...list].sort((a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7) || (a < b ? 1 : -1));
    for (let i = 1; i <= n; i++) expect(shardIds(shuffled, { index: i, count: n })).toEqual(shardIds(list, { index: i, count: n }));
  });

  it("keep the cells' own order inside a shard", () => {
    const cells = ["b", "a", "d", "c"].map((id) => ({ id }));
    expect(sliceCells(cells, { index: 1, count: 2 }).map((c) => c.id)).toEqual(["b", "a"]);
    expect(sliceCells(cells, { index: 2, count: 2 }).map((c) => c.id)).toEqual(["d", "c"]);
  });
});

describe("JSON error positions", () => {
  const jsonish = fc.array(fc.constantFrom("{", "}", "[", "]", ",", ":", '"a"', '"\\u00e9"', '"\\x"', "1", "-0.5e3", "01", "true", "nul", " ", "\n"), { maxLength: 14 }).map((a) => a.join(""));
  fcTest.prop([fc.oneof(jsonish, fc.json())])("agrees with JSON.parse on what is valid", (text) => {
    let ok = true;
    try {
      JSON.parse(text);
    } catch {
      ok = false;
    }
    const at = jsonErrorOffset(text);
    expect(at === -1).toBe(ok);
    if (!ok) expect(at).toBeLessThanOrEqual(text.length);
  });

  it("points at the character JSON.parse stops at, also where V8's message names no position", () => {
    expect(jsonErrorOffset('{"a":tru}')).toBe(8);
    expect(jsonErrorOffset("x")).toBe(0);
    expect(jsonErrorOffset('{"a":1,}')).toBe(7);
    expect(jsonErrorOffset('{"a":1')).toBe(6);
    expect(lineColAt('{\n  "a": tru}', jsonErrorOffset('{\n  "a": tru}'))).toEqual({ line: 2, column: 11 });
  });

  fcTest.prop([fc.json(), fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.nat(3)), { maxLength: 4 })])("finds the value at a path, as JSON.parse reads it", (text, path) => {
    const data = JSON.parse(text) as unknown;
    let v: unknown = data;
    let deepest = 0;
    for (const k of path) {
      if (v === null || typeof v !== "object" || !(String(k) in (v as object)) || Array.isArray(v) !== (typeof k === "number")) break;
      v = (v as Record<string, unknown>)[k as string];
      deepest++;
    }
    const at = offsetOfPath(text, path);
    if (deepest === path.length && (typeof v !== "object" || v === null)) {
      expect(JSON.parse(text.slice(at).replace(/^(("(?:[^"\\]|\\.)*")|[^,\]}\s]+)[\s\S]*$/, "$1"))).toEqual(v);
    }
  });

  it("finds values after a scalar that ends its container", () => {
    expect(offsetOfPath('[{"":false},0]', [1])).toBe(12);
    expect(offsetOfPath('{"a":{"b":1},"c":2}', ["c"])).toBe(17);
    expect(offsetOfPath('[{"":false},0]', [0, 0])).toBe(1);
  });

  it("a deeply nested file gets its position, no crash (JSON.parse and the position finders do not recurse)", () => {
    const deep = "[".repeat(200_000) + "]".repeat(200_000);
    expect(offsetOfPath(`{"cells": ${deep}, "x": 1}`, ["x"])).toBe(10 + deep.length + 7);
    expect(jsonErrorOffset(deep + "]")).toBe(deep.length);
    expect(jsonErrorOffset("[".repeat(200_000) + "x")).toBe(200_000);
  });
});

describe("merge in-process over a fake backend (every verdict): the shards join into the unsharded run", () => {
  it("gives the same cells, in the same order, and the same support answers", async () => {
    const common = { cwd: projectRoot(), env: {}, backendFor: async (x: string) => new FakeXend(x) };
    const whole = await execute(common);
    const wholeJson = JSON.parse(renderJson(makeReport({ name: whole.matrix.name, file: DEFAULT_MATRIX }, whole.backend, whole.results)));
    expect(new Set(whole.results.map((r) => r.verdict))).toEqual(new Set(["preserved", "rejected", "changed", "error", "skipped"]));
    const n = 4;
    const files = [];
    for (let i = 1; i <= n; i++) {
      let selection: string[] = [];
      const ex = await execute({ ...common, select: (cells) => ((selection = cells.map((c) => c.id)), sliceCells(cells, { index: i, count: n })) });
      const text = addShardToJson(renderJson(makeReport({ name: ex.matrix.name, file: DEFAULT_MATRIX }, ex.backend, ex.results)), shardInfo({ index: i, count: n }, selection, ex.matrix.file));
      files.push(readShardReport(`shard-${i}.json`, text));
    }
    const merged = mergeShards([files[2], files[0], files[3], files[1]]);
    const mergedJson = JSON.parse(renderJson(merged.report));
    expect(untimed(mergedJson.cells)).toEqual(untimed(wholeJson.cells));
    expect(mergedJson.support).toEqual(wholeJson.support);
    expect(mergedJson.summary).toEqual(wholeJson.summary);
    expect(merged.shards).toEqual(["1/4 from shard-1.json", "2/4 from shard-2.json", "3/4 from shard-3.json", "4/4 from shard-4.json"]);
  });
});

const haveRecordings = existsSync(fromRoot(RECORDINGS_DIR)) && readdirSync(fromRoot(RECORDINGS_DIR)).some((d) => /^\d/.test(d));

describe(`run --shard and merge through the CLI (recorded backend${haveRecordings ? "" : "; no recordings: every cell is an error, the bookkeeping is still checked"})`, () => {
  let dir: string;
  const f = (name: string) => path.join(dir, name);
  let whole: { code: number; json: { cells: unknown[]; support: unknown[]; summary: unknown } };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "xc-shard-"));
    for (let i = 1; i <= 3; i++) {
      const r = await cli(["run", "--shard", `${i}/3`, "--reporter", "json", "--out", f(`s${i}.json`)]);
      expect(r.code, r.err).toBeLessThan(2);
      expect(r.err).toContain(`shard ${i}/3: `);
    }
    const r = await cli(["run", "--reporter", "json", "--out", f("whole.json")]);
    whole = { code: r.code, json: JSON.parse(readFileSync(f("whole.json"), "utf8")) };
    // Shards of other runs, for the refusals.
    await cli(["run", "--shard", "1/2", "--reporter", "json", "--out", f("half-1.json")]);
    await cli(["run", "--xend", "4.1.2", "--shard", "1/3", "--reporter", "json", "--out", f("other-selection.json")]);
    // A user's copy elsewhere: its domains beside it (paths are relative to the matrix file).
    cpSync(fromRoot("fixtures/domains"), f("domains"), { recursive: true });
    const m = readFileSync(fromRoot(DEFAULT_MATRIX), "utf8").replace(/^name: default$/m, "name: other").replaceAll("../fixtures/domains/", "domains/");
    writeFileSync(f("other.yaml"), m);
    await cli(["run", "--matrix", f("other.yaml"), "--shard", "2/3", "--reporter", "json", "--out", f("other-matrix.json")]);
  });

  it("each shard holds its slice and says which part of which selection it is", () => {
    const seen: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const s = JSON.parse(readFileSync(f(`s${i}.json`), "utf8"));
      expect(s.shard.index).toBe(i);
      expect(s.shard.count).toBe(3);
      expect(s.shard.selection).toEqual(whole.json.cells.map((c) => (c as { id: string }).id));
      expect(s.cells.map((c: { id: string }) => c.id).sort()).toEqual(s.shard.cells);
      seen.push(...s.shard.cells);
    }
    expect(seen.length).toBe(whole.json.cells.length);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("merge gives the unsharded run's cells, support answers and exit code (shards in any order)", async () => {
    const r = await cli(["merge", f("s3.json"), f("s1.json"), f("s2.json"), "--reporter", "json", "--out", f("merged.json")]);
    expect(r.code).toBe(whole.code);
    const merged = JSON.parse(readFileSync(f("merged.json"), "utf8"));
    expect(untimed(merged.cells)).toEqual(untimed(whole.json.cells));
    expect(merged.support).toEqual(whole.json.support);
    expect(merged.summary).toEqual(whole.json.summary);
    expect(merged.shard).toBeUndefined();
    expect(r.err).toContain("merged 3 shard(s): 1/3 from");
  });

  it("merge renders the other reporters too (html page, table)", async () => {
    const h = await cli(["merge", f("s1.json"), f("s2.json"), f("s3.json"), "--reporter", "html", "--out", f("merged.html")]);
    expect(h.code).toBe(whole.code);
    const html = readFileSync(f("merged.html"), "utf8");
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect((html.match(/data-kind="cell"/g) ?? []).length).toBe(whole.json.support.length);
    const t = await cli(["merge", f("s1.json"), f("s2.json"), f("s3.json")]);
    expect(t.code).toBe(whole.code);
    expect(t.out).toContain("cells:");
  });

  const refusals: [string, () => string[], RegExp][] = [
    ["the same shard twice (overlap)", () => [f("s1.json"), f("s2.json"), f("s3.json"), f("s1.json")], /both shard 1\/3: shards overlap/],
    ["a missing shard", () => [f("s1.json"), f("s3.json")], /shard 2\/3 missing/],
    ["a shard of another N", () => [f("s1.json"), f("half-1.json")], /not a shard of the same run .*shard count N/],
    ["a shard of another selection", () => [f("s1.json"), f("other-selection.json")], /not a shard of the same run .*selection of cells/],
    ["a shard of another matrix", () => [f("s1.json"), f("other-matrix.json")], /not a shard of the same run .*matrix other there, default in/],
    ["a plain run's JSON", () => [f("s1.json"), f("whole.json")], /whole\.json: not a shard's report/],
    ["no file", () => [], /needs the shards' JSON files/],
    ["a file that does not exist", () => [f("nope.json")], /nope\.json: cannot read shard report: ENOENT \(no such file or directory\)/],
  ];
  it.each(refusals)("refuses %s with exit 2 and one clear line", async (_what, files, message) => {
    const r = await cli(["merge", ...files(), "--reporter", "json", "--out", f("refused.json")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(f("refused.json"))).toBe(false);
  });

  it("refuses a tampered shard (a cell taken out) naming the file, line and column", async () => {
    const s = JSON.parse(readFileSync(f("s2.json"), "utf8"));
    s.cells.pop();
    writeFileSync(f("tampered.json"), JSON.stringify(s, null, 2));
    const r = await cli(["merge", f("s1.json"), f("tampered.json"), f("s3.json")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/tampered\.json:\d+:\d+: its cells are not shard 2\/3 of its selection: missing /);
  });

  it("refuses malformed JSON and wrong fields at their line and column", async () => {
    writeFileSync(f("broken.json"), '{\n  "tool": "xend-compat",\n  "cells": [1, 2,]\n}\n');
    let r = await cli(["merge", f("broken.json")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/broken\.json:3:\d+: not valid JSON/);
    const s = JSON.parse(readFileSync(f("s1.json"), "utf8"));
    s.cells[1].verdict = "fine";
    writeFileSync(f("bad-verdict.json"), JSON.stringify(s, null, 2));
    r = await cli(["merge", f("bad-verdict.json"), f("s2.json"), f("s3.json")]);
    expect(r.code).toBe(2);
    const line = JSON.stringify(s, null, 2).split("\n").findIndex((l) => l.includes('"verdict": "fine"')) + 1;
    expect(r.err).toMatch(new RegExp(`bad-verdict\\.json:${line}:\\d+: not a JSON report of 'xend-compat run --reporter json': cells\\[1\\]\\.verdict: `));
  });

  it("refuses a deeply nested shard at its line and column, exit 2, no crash", async () => {
    const text = readFileSync(f("s1.json"), "utf8");
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    writeFileSync(f("deep.json"), text.replace(/"notes": \[[^\]]*\]/, `"notes": ${deep}`));
    let r = await cli(["merge", f("deep.json"), f("s2.json"), f("s3.json")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/deep\.json:\d+:\d+: not a report of xend-compat: nested deeper than 512 levels/);
    writeFileSync(f("deep-broken.json"), "[".repeat(100_000) + "x");
    r = await cli(["merge", f("deep-broken.json")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/deep-broken\.json:1:513: not a report of xend-compat: nested deeper than 512 levels/);
    writeFileSync(f("broken-x.json"), "[".repeat(100) + "x");
    r = await cli(["merge", f("broken-x.json")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/broken-x\.json:1:101: not valid JSON: unexpected "x"/);
  });
});
