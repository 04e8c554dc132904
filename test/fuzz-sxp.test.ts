/**
 * More SXPR reader properties (fast-check, fixed seeds and run counts; FUZZ_RUNS=N to run longer),
 * beside the ones in test/sxp-reader.test.ts (print∘read identity, arbitrary ASCII-ish text): here
 * full-Unicode text and readSxprAll, positions inside the text, mutations of real SXPR from libvirt's
 * test data and xend-style dumps, and printing/paths over arbitrary trees.
 */
import { test as fcTest, fc } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { HarnessError } from "../harness/errors.js";
import { findKey, findPath, printSxpr, readSxpr, readSxprAll, stripContinuations, canonical, sxEqual, type Sx } from "../harness/sxp/index.js";
import { files, mutated, runs, texts, timeoutFor } from "./support/fuzz.js";

const SEEDS = texts(files(["v0.8.7", "v0.9.10", "v0.9.11", "v4.5.0"].map((t) => `fixtures/libvirt-tests/${t}/sexpr2xmldata`), ".sexpr")).map(stripContinuations);

function checkError(e: unknown, text: string): void {
  expect(e).toBeInstanceOf(HarnessError);
  const h = e as HarnessError;
  expect(h.code).toBe("input.sxpr");
  const lines = text.split("\n").length;
  expect(h.pos?.line).toBeGreaterThanOrEqual(1);
  expect(h.pos!.line!).toBeLessThanOrEqual(lines + 1);
  expect(h.pos?.column).toBeGreaterThanOrEqual(1);
  expect(h.oneLine()).not.toContain("\n".repeat(2));
}

const UNICODE_RUNS = runs(1000);
const MUTATION_RUNS = runs(1000);
const TREE_RUNS = runs(300);

describe("fuzz: SXPR reader", () => {
  fcTest.prop([fc.string({ unit: "binary", maxLength: 80 })], { numRuns: UNICODE_RUNS, seed: 31 })(
    `full-Unicode text, both dialects, readSxpr and readSxprAll (${UNICODE_RUNS} runs, seed 31): input.sxpr errors with a position inside the text, or a tree`,
    (s) => {
      for (const read of [() => readSxpr(s, { dialect: "xend" }), () => readSxpr(s, { dialect: "libvirt" }), () => readSxprAll(s)]) {
        try {
          read();
        } catch (e) {
          checkError(e, s);
        }
      }
      expect(() => readSxpr(s, { dialect: "libvirt", strict: false })).not.toThrow();
    }, timeoutFor(UNICODE_RUNS));

  fcTest.prop([mutated(SEEDS)], { numRuns: MUTATION_RUNS, seed: 32 })(
    `mutations of ${SEEDS.length} real SXPR documents (${MUTATION_RUNS} runs, seed 32): only input.sxpr errors; what reads prints and reads back the same`,
    (s) => {
      for (const dialect of ["xend", "libvirt"] as const) {
        let t: Sx;
        try {
          t = readSxpr(s, { dialect });
        } catch (e) {
          checkError(e, s);
          continue;
        }
        expect(sxEqual(readSxpr(printSxpr(t)), t)).toBe(true);
      }
    }, timeoutFor(MUTATION_RUNS));
});

const anyAtom = fc.string({ unit: "binary", maxLength: 10 });
const anyTree: fc.Arbitrary<Sx> = fc.letrec<{ node: Sx }>((tie) => ({
  node: fc.oneof({ depthSize: "small" }, anyAtom, fc.array(tie("node"), { maxLength: 5 })),
})).node;

describe("fuzz: SXPR printer and paths", () => {
  fcTest.prop([anyTree, fc.string({ unit: fc.constantFrom("a", "b", "/", "{", "}", ",", "*"), maxLength: 12 })], { numRuns: TREE_RUNS, seed: 33 })(
    `arbitrary trees with any atoms (${TREE_RUNS} runs, seed 33): every print style works, xend style reads back, paths never throw`,
    (t, pattern) => {
      for (const style of ["xend", "xend-3", "libvirt"] as const) {
        expect(typeof printSxpr(t, { style })).toBe("string");
        expect(typeof printSxpr(t, { style, pretty: true })).toBe("string");
      }
      // xend style round trips whenever the tree has no NUL (sxp.py cannot carry it) and is a list or non-empty atom.
      if (!JSON.stringify(t).includes("\\u0000") && t !== "") expect(canonical(readSxpr(printSxpr(t)))).toBe(canonical(t));
      findKey(t, "localtime");
      try {
        findPath(t, pattern);
      } catch (e) {
        expect(e).toBeInstanceOf(HarnessError);
      }
    }, timeoutFor(TREE_RUNS));
});
