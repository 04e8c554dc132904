import { describe, expect, it } from "vitest";
import { fc, test as fcTest } from "@fast-check/vitest";
import * as yaml from "js-yaml";
import { readFast, writeYaml } from "../harness/xend/yamltext.js";

type V = null | boolean | number | string | V[] | { [k: string]: V };

const text = fc.oneof(
  fc.string({ unit: "grapheme-composite", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("", "\n", "a\n", "(domain\n  (name x))\n''", " lead", "trail ", "x\n\n", "true", "3.2", "0-node", "- a", "a: b", "#c", "|", "/xend/node/", "null", "~", "y"),
  fc.array(fc.constantFrom("(", ")", " ", "\n", "'", '"', "\\", "a", "1", "-", ":", "#", "\t", "\r", "\u0085", "\u2028", "\ufeff"), { maxLength: 30 }).map((a) => a.join("")),
);
const key = fc.oneof(fc.constantFrom("step", "channel", "body", "config (again)", "yes", "a b", ""), fc.string({ maxLength: 8 }));
const value: fc.Arbitrary<V> = fc.letrec<{ v: V }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    text,
    fc.integer({ min: -1e9, max: 1e9 }),
    fc.constant(null),
    fc.boolean(),
    fc.array(tie("v"), { maxLength: 4 }),
    fc.dictionary(key, tie("v"), { maxKeys: 4 }),
  ),
})).v;
const doc = fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 });

describe("yamltext: the recording writer and its fast reader", () => {
  fcTest.prop([doc], { numRuns: 400 })("any YAML reader reads back what was written, and the fast reader agrees", (d) => {
    const t = writeYaml(d as V);
    expect(yaml.load(t)).toEqual(d);
    expect(readFast(t)).toEqual(d);
  });

  it("writes plain scalars only where they are unambiguous, multi-line text as literal blocks", () => {
    const t = writeYaml({ step: "1-define", path: "/xend/node/", v: "3.2", b: "yes", body: "(domain\n  (name x))\n''", n: 7, e: [], o: {} });
    expect(t).toBe(
      'step: "1-define"\npath: /xend/node/\nv: "3.2"\nb: "yes"\nbody: |-\n  (domain\n    (name x))\n  \'\'\n"n": 7\ne: []\no: {}\n',
    );
  });

  it("leaves anything outside its subset to js-yaml (hand edits)", () => {
    expect(readFast("a: 1 # note\n")).toBeUndefined();
    expect(readFast("a: {b: 1}\n")).toBeUndefined();
    expect(readFast("a: 'x'\n")).toBeUndefined();
    expect(readFast("a: >\n  folded\n")).toBeUndefined();
    expect(readFast("a:\n    b: 1\n")).toBeUndefined();
    expect(readFast("a: yes\n")).toBeUndefined();
    expect(readFast("a: 1\na: 2\n")).toBeUndefined();
    expect(readFast('a: "x\n')).toBeUndefined();
    expect(readFast("a: x\n")).toEqual({ a: "x" });
  });
});
