/**
 * Cell-id globs match in linear time (harness/matrix/glob.ts: an automaton, runs of `*` collapsed,
 * no backtracking) and mean exactly what the regular expression they replace meant: a property test
 * against that reference on short patterns and ids, where backtracking is still cheap.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { compileGlob, globMatch } from "../harness/matrix/index.js";

/** The former implementation (a regular expression; exponential on many `*`), as the reference. */
function referenceRegExp(pattern: string): RegExp {
  let re = "";
  let i = 0;
  let depth = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        re += ".*";
        i += 2;
        continue;
      }
      re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "{") {
      re += "(?:";
      depth++;
    } else if (c === "}" && depth > 0) {
      re += ")";
      depth--;
    } else if (c === "," && depth > 0) re += "|";
    else re += c.replace(/[.+^$()|[\]\\]/g, "\\$&");
    i++;
  }
  if (depth > 0) throw new Error(`unclosed '{' in glob '${pattern}'`);
  return new RegExp(`^${re}$`, "s");
}

const patternChar = fc.constantFrom("*", "**", "?", "{", "}", ",", "/", "a", "b", ".", "+", "-", "1");
const idChar = fc.constantFrom("a", "b", "/", ".", "+", "-", "1", "c");

describe("cell-id globs: linear matching", () => {
  test.prop([fc.array(patternChar, { maxLength: 10 }).map((a) => a.join("")), fc.array(idChar, { maxLength: 12 }).map((a) => a.join(""))], { numRuns: 3000 })(
    "agrees with the regular-expression reference (match, no match, or the same syntax error)",
    (pattern, id) => {
      let ref: RegExp | Error;
      try {
        ref = referenceRegExp(pattern);
      } catch (e) {
        ref = e as Error;
      }
      if (ref instanceof Error) {
        expect(() => compileGlob(pattern)).toThrow(ref.message);
        return;
      }
      expect(compileGlob(pattern).test(id), `${pattern} ~ ${id}`).toBe(ref.test(id));
    },
  );

  it("24 '*' (and 24 alternatives of '*') against a near-miss id: answered at once, not after minutes", () => {
    const id = "4.1.2/0.9.11/" + "a".repeat(60);
    const stars = "*".repeat(24) + "x";
    expect(globMatch(stars, id)).toBe(false);
    expect(globMatch("*a".repeat(24) + "x", id)).toBe(false);
    expect(globMatch("*/*/" + "*a".repeat(24), id)).toBe(true);
    expect(globMatch("{*,**}".repeat(24) + "x", id)).toBe(false);
    expect(globMatch("**" + "?*".repeat(24) + "a", "a".repeat(200))).toBe(true);
  });

  it("braces nested deeper than 32 are an error, not a stack overflow", () => {
    expect(() => compileGlob("{".repeat(5000))).toThrow(/braces nested deeper than 32/);
    expect(compileGlob("{".repeat(32) + "a" + "}".repeat(32)).test("a")).toBe(true);
  });
});
