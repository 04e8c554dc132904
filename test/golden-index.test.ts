/**
 * The golden index's line reader (harness/run/golden.ts indexLine) accepts exactly the lines the
 * regular expression it replaced accepted, with the same cell id and digest: property-checked over
 * lines built from the characters that matter (slashes, tabs, spaces of several kinds, hex digits,
 * letters), plus real lines of the shipped indexes and hand-picked edges.
 */
import { fc, test } from "@fast-check/vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { indexLine } from "../harness/run/golden.js";

const OLD = /^([^\t\s]+\/[^\t\s]+\/[^\t\s]+)\t([0-9a-f]{16})$/;
const old = (line: string): [string, string] | null => {
  const m = OLD.exec(line);
  return m ? [m[1], m[2]] : null;
};

const ch = fc.constantFrom("/", "/", "\t", " ", "\u00a0", "\u2003", "a", "b", "0", "9", "f", "g", ".", "-", "+", "\n", "F");
const hex = fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 15, maxLength: 17 });

describe("golden index lines", () => {
  test.prop([fc.string({ unit: ch, maxLength: 40 })], { numRuns: 3000 })("any text: the same verdict as the regular expression", (line) => {
    expect(indexLine(line)).toEqual(old(line));
  });

  test.prop([fc.string({ unit: ch, maxLength: 30 }), fc.constantFrom("\t", " ", "\t\t", ""), hex], { numRuns: 3000 })("id, separator, digest: the same verdict", (id, sep, d) => {
    const line = `${id}${sep}${d}`;
    expect(indexLine(line)).toEqual(old(line));
  });

  it("edges and every line of the shipped indexes", () => {
    const d = "0123456789abcdef";
    for (const id of ["a/b/c", "/x/y/z", "a/b/c/", "//a", "a//b", "a/b/", "a/ b/c", "a/b/c\u00a0", "4.1.2/0.9.11/pv-utc", "a/b", "ab/c/d/e", "/a//", "a//b/c"])
      expect(indexLine(`${id}\t${d}`), id).toEqual(old(`${id}\t${d}`));
    const dir = path.resolve(import.meta.dirname, "..", "fixtures", "golden", "index");
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".tsv")) : [];
    let n = 0;
    for (const f of files)
      for (const line of fs.readFileSync(path.join(dir, f), "utf8").split("\n")) {
        if (line === "" || line.startsWith("#")) continue;
        expect(indexLine(line)).toEqual(old(line));
        n++;
      }
    if (files.length) expect(n).toBeGreaterThan(0);
  });
});
