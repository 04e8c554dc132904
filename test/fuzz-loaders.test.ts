/**
 * Fuzzing the recording loader and the matrix loader (fast-check, fixed seeds and run counts;
 * FUZZ_RUNS=N to run longer): mutations of valid documents and generated YAML. A loader may only
 * throw its own HarnessError (input.*), naming the file; anything else is a crash and fails.
 * The recording used as a seed is built here in memory (it is not a recording of any xend).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { test as fcTest, fc } from "@fast-check/vitest";
import { stringify as yamlStringify } from "yaml";
import { describe, expect } from "vitest";
import { HarnessError } from "../harness/errors.js";
import { expandCells, parseMatrix } from "../harness/matrix/index.js";
import { parseRecording, serializeRecording, type Recording } from "../harness/xend/index.js";
import { files, mutated, onlyHarnessErrors, onlyHarnessErrorsAsync, runs, texts, timeoutFor } from "./support/fuzz.js";
import { ROOT } from "./support/project-copy.js";

const SAMPLE: Recording = {
  format: 1,
  cell: "4.1.2/0.9.11/hvm-utc",
  provenance: { xendVersion: "4.1.2", tree: "in-memory test sample", commit: "unknown", tz: "UTC", backend: "sandbox", harnessVersion: "0.1.0", recordedAt: "2026-01-01T00:00:00.000Z", notes: ["not from any xend"] },
  exchanges: [
    { channel: "xend", step: "0-node", request: { method: "GET", path: "/xend/node/", headers: [["Host", "localhost:8000"]] }, response: { status: 200, reason: "OK", headers: [["Content-Length", "29"]], body: "(node (xend_config_format 4))" } },
    {
      channel: "xend",
      step: "1-define",
      request: { method: "POST", path: "/xend/domain/", headers: [["Content-Type", "application/x-www-form-urlencoded"]], body: "op=new&config=%28vm%20%28name%20xc%2da%29%20%28localtime%201%29%29" },
      response: { status: 200, reason: "OK", headers: [], body: "" },
    },
    { channel: "control", step: "2-start/effective-clock", control: { kind: "effective-clock", domain: "xc-a" }, reply: { ok: true, clock: { setTimeOffsetCalls: [0, null], vmRtcTimeoffset: "3600", dmLocaltime: true, tz: "ORC-2", hostUtcOffset: 7200 } } },
    { channel: "control", step: "3-guest-set-rtc", control: { kind: "guest-set-rtc", domain: "xc-a", delta: -60 }, reply: { ok: false, detail: "multi\nline 'detail' \"quoted\"" } },
  ],
};
const REC_TEXT = serializeRecording(SAMPLE);
const REC_RUNS = runs(300);
const MATRIX_RUNS = runs(300);
const GEN_RUNS = runs(200);

async function loadsOrRefuses(text: string): Promise<void> {
  await onlyHarnessErrorsAsync(async () => {
    try {
      await parseRecording(text, "fuzz.yaml");
    } catch (e) {
      if (e instanceof HarnessError) {
        expect(e.code).toBe("input.recording");
        expect(e.pos?.file).toBe("fuzz.yaml");
      }
      throw e;
    }
  });
}

describe("fuzz: recording loader", () => {
  fcTest.prop([mutated([REC_TEXT])], { numRuns: REC_RUNS, seed: 41 })(`mutated recording text (${REC_RUNS} runs, seed 41): a recording or input.recording naming the file`, async (text) => {
    await loadsOrRefuses(text);
  }, timeoutFor(REC_RUNS));

  const recLike = fc.record(
    {
      format: fc.oneof(fc.constant(1), fc.anything()),
      cell: fc.oneof(fc.constant("4.1.2/0.9.11/x"), fc.anything()),
      provenance: fc.oneof(fc.constant(SAMPLE.provenance), fc.dictionary(fc.constantFrom("xendVersion", "tree", "commit", "tz", "backend", "harnessVersion", "recordedAt", "notes"), fc.anything())),
      exchanges: fc.oneof(fc.anything(), fc.array(fc.oneof(fc.anything(), fc.record({ step: fc.anything(), channel: fc.constantFrom("xend", "control", "x"), request: fc.anything(), response: fc.anything(), control: fc.anything(), reply: fc.anything() })), { maxLength: 3 })),
    },
    { requiredKeys: [] },
  );
  fcTest.prop([recLike], { numRuns: GEN_RUNS, seed: 42 })(`generated recording-like YAML (${GEN_RUNS} runs, seed 42): a recording or input.recording naming the file`, async (doc) => {
    let text: string;
    try {
      text = yamlStringify(doc);
    } catch {
      return;
    }
    await loadsOrRefuses(text);
  }, timeoutFor(GEN_RUNS));

  fcTest.prop([fc.constant(0)], { numRuns: 1, seed: 43 })("the unmutated sample loads back as built (1 run)", async () => {
    const rec = await parseRecording(REC_TEXT, "sample.yaml");
    expect(rec).toEqual(SAMPLE);
  }, timeoutFor(1));
});

const MATRIX_SEEDS = texts([...files(["matrices"], ".yaml"), ...files(["test/bad-input/matrix"], ".yaml")]);

function matrixOrRefusal(text: string): void {
  onlyHarnessErrors(() => {
    try {
      const m = parseMatrix(text, { file: path.join(ROOT, "fuzz.yaml"), displayName: "fuzz.yaml", root: ROOT });
      expandCells(m);
    } catch (e) {
      if (e instanceof HarnessError) {
        expect(e.code.startsWith("input.")).toBe(true);
        expect(e.oneLine().includes("\n")).toBe(false);
      }
      throw e;
    }
  }, ["input"]);
}

describe("fuzz: matrix loader", () => {
  expect(fs.existsSync(path.join(ROOT, "matrices/default.yaml"))).toBe(true);
  fcTest.prop([mutated(MATRIX_SEEDS)], { numRuns: MATRIX_RUNS, seed: 51 })(
    `mutated matrix files (${MATRIX_SEEDS.length} seeds, ${MATRIX_RUNS} runs, seed 51): a matrix or one-line input.* error`,
    (text) => matrixOrRefusal(text), timeoutFor(MATRIX_RUNS));

  const scenario = fc.record(
    {
      id: fc.oneof(fc.constantFrom("pv-utc", "hvm-utc", "x"), fc.anything()),
      description: fc.oneof(fc.constant("d"), fc.anything()),
      domain: fc.oneof(fc.constantFrom("fixtures/domains/pv-utc.xml", "fixtures/domains/hvm-utc.xml", "../x", "/etc/passwd", "fixtures", ""), fc.anything()),
      steps: fc.oneof(fc.constant(["define", "read"]), fc.array(fc.oneof(fc.constantFrom("define", "start", "read", "guest-poweroff"), fc.record({ "guest-set-rtc": fc.anything() }), fc.anything()), { maxLength: 5 })),
      intent: fc.anything(),
      checks: fc.oneof(fc.constant(["clock"]), fc.anything()),
    },
    { requiredKeys: ["id", "description", "domain", "steps"] },
  );
  const matrixLike = fc.record(
    {
      name: fc.oneof(fc.constant("m"), fc.anything()),
      xend: fc.oneof(fc.constant(["4.1.2"]), fc.array(fc.oneof(fc.constantFrom("3.2", "4.1.2", "x"), fc.anything()), { maxLength: 3 })),
      libvirt: fc.oneof(fc.constant(["0.9.11"]), fc.array(fc.oneof(fc.constantFrom("0.8.7", "0.9.11", "0.8.7+rfc-localtime", "9.9"), fc.anything()), { maxLength: 3 })),
      scenarios: fc.oneof(fc.array(scenario, { maxLength: 3 }), fc.anything()),
      include: fc.anything(),
      exclude: fc.array(fc.oneof(fc.constantFrom("*/*/*", "{a", "**"), fc.anything()), { maxLength: 2 }),
      expectations: fc.anything(),
    },
    { requiredKeys: ["name", "xend", "libvirt", "scenarios"] },
  );
  fcTest.prop([matrixLike], { numRuns: GEN_RUNS, seed: 52 })(`generated matrix-like YAML (${GEN_RUNS} runs, seed 52): a matrix or one-line input.* error`, (doc) => {
    let text: string;
    try {
      text = yamlStringify(doc);
    } catch {
      return;
    }
    matrixOrRefusal(text);
  }, timeoutFor(GEN_RUNS));
});
