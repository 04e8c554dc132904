/**
 * readSxprPrefix (libvirt dialect, strict, text after the first expression allowed): whenever it
 * reads an expression, libvirt's lenient read gives the same one, and a strict read of the same
 * text either gives it too or fails only because text follows it. libvirt's SXPR parser relies on
 * this to read xend 4.1.2's answers (followed by `''`) once.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readSxpr, readSxprPrefix } from "../harness/sxp/index.js";

function attempt<T>(f: () => T): { ok: true; value: T } | { ok: false; message: string } {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

describe("readSxprPrefix", () => {
  it("reads the first expression of a xend 4.1.2 answer and where it ends", () => {
    const text = "(domain (name x) (image (hvm (localtime 1))))\n''";
    const r = readSxprPrefix(text);
    expect(r.value).toEqual(["domain", ["name", "x"], ["image", ["hvm", ["localtime", "1"]]]]);
    expect(text.slice(r.end)).toBe("\n''");
    expect(() => readSxpr(text, { dialect: "libvirt" })).toThrow(/unexpected text after the expression/);
  });

  it("agrees with the lenient and strict readers on generated texts", () => {
    const token = fc.constantFrom("(", ")", "a", "b c", " ", "\n", "'q'", "'x y'", "'", "\\", "''", "(k v)", "\t");
    let read = 0;
    fc.assert(
      fc.property(fc.array(token, { maxLength: 16 }), (parts) => {
        const text = parts.join("");
        const p = attempt(() => readSxprPrefix(text));
        if (!p.ok) return;
        read++;
        expect(readSxpr(text, { dialect: "libvirt", strict: false })).toEqual(p.value.value);
        const s = attempt(() => readSxpr(text, { dialect: "libvirt" }));
        if (s.ok) expect(s.value).toEqual(p.value.value);
        else expect(s.message).toMatch(/unexpected text after the expression/);
      }),
      { seed: 42, numRuns: 5000 },
    );
    expect(read).toBeGreaterThan(500);
  });
});
