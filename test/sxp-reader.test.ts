import { describe, expect, it } from "vitest";
import { fc, test as fcTest } from "@fast-check/vitest";
import {
  readSxpr,
  readSxprAll,
  printSxpr,
  findPath,
  findKey,
  valueAt,
  sxEqual,
  canonical,
  stripContinuations,
  type Sx,
} from "../harness/sxp/index.js";
import { HarnessError } from "../harness/errors.js";

describe("xend dialect (sxp.py rules)", () => {
  it("reads atoms, quoted strings and nested lists", () => {
    expect(readSxpr("(domain (name pvtop) (image (linux (kernel '/boot/vmlinuz') (args \"a b\"))))")).toEqual([
      "domain",
      ["name", "pvtop"],
      ["image", ["linux", ["kernel", "/boot/vmlinuz"], ["args", "a b"]]],
    ]);
  });

  it("decodes xend's escapes: \\n, \\t, \\xNN, octal, quotes; keeps an unknown escape's backslash", () => {
    expect(readSxpr("'a\\nb\\tc\\x41\\101\\'\\q'")).toBe("a\nb\tcAA'\\q");
  });

  it("skips # comments and ends atoms at xend's separators", () => {
    expect(readSxpr("(a # comment\n b<c)")).toEqual(["a", "b", "<c"]);
  });

  it("reports an unclosed list at the line and column of its '('", () => {
    try {
      readSxpr("(vm\n  (name x)\n  (image (linux)", { file: "x.sexpr" });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HarnessError);
      expect((e as HarnessError).oneLine()).toBe("x.sexpr:3:3: unexpected end of input: '(' is never closed");
    }
  });

  it("reports a stray ')' and an unterminated string with positions", () => {
    expect(() => readSxpr("(a))")).toThrow(/syntax error/);
    try {
      readSxpr("(a\n 'open)");
    } catch (e) {
      expect((e as HarnessError).pos).toEqual({ file: undefined, line: 2, column: 2 });
    }
  });

  it("rejects characters xend rejects outside strings, accepts them inside", () => {
    expect(() => readSxpr("(a \u00e9)")).toThrow(/invalid character: code 233/);
    expect(readSxpr("(a '\u00e9')")).toEqual(["a", "\u00e9"]);
  });

  it("reads several top-level expressions with readSxprAll; readSxpr wants exactly one", () => {
    expect(readSxprAll("(a) (b)")).toEqual([["a"], ["b"]]);
    expect(() => readSxpr("(a) (b)")).toThrow(/unexpected text after the expression/);
    expect(() => readSxpr("  ")).toThrow(/no expression/);
  });
});

describe("libvirt dialect (string2sexpr rules)", () => {
  it("knows only single quotes and keeps escapes raw", () => {
    expect(readSxpr("(vm (name 'a\\'b') (x \"c\"))", { dialect: "libvirt" })).toEqual(["vm", ["name", "a\\'b"], ["x", '"c"']]);
  });

  it("accepts unclosed input when not strict, like libvirt", () => {
    expect(readSxpr("(vm (name 'x", { dialect: "libvirt", strict: false })).toEqual(["vm", ["name", "x"]]);
    expect(() => readSxpr("(vm (name 'x", { dialect: "libvirt" })).toThrow(HarnessError);
  });

  it("stripContinuations removes backslash-newline pairs (libvirt's test loader)", () => {
    expect(stripContinuations("(vm \\\n(name x)\\\n)\n")).toBe("(vm (name x))\n");
  });
});

describe("printing", () => {
  it("prints like xend 4.1.2's sxp.show: bare atoms where atomp allows, Python repr otherwise", () => {
    expect(printSxpr(["domain", ["name", "a b"], ["x", "it's"], ["e", ""], ["n", "/usr/lib/xen"]])).toBe(
      `(domain (name 'a b') (x "it's") (e '') (n /usr/lib/xen))`,
    );
  });

  it("prints the empty string as nothing in xend 3.x style", () => {
    expect(printSxpr(["bootloader", ""], { style: "xend-3" })).toBe("(bootloader )");
  });

  it("prints like libvirt's sexpr2string", () => {
    expect(printSxpr(["vm", ["args", "a b"], ["k", "x=y"]], { style: "libvirt" })).toBe("(vm (args 'a b') (k x=y))");
  });
});

describe("paths", () => {
  const t = readSxpr(
    "(domain (localtime 1) (image (hvm (localtime 0) (rtc_timeoffset 3600))) (image (linux (localtime 1))))",
  );
  it("returns every match of a path with its value", () => {
    expect(findPath(t, "/domain/image/{hvm,linux}/localtime").map((m) => [m.path, m.value])).toEqual([
      ["/domain/image/hvm/localtime", "0"],
      ["/domain/image/linux/localtime", "1"],
    ]);
    expect(findPath(t, "/domain/image/*/rtc_timeoffset")[0].value).toBe("3600");
    expect(valueAt(t, "/domain/localtime")).toBe("1");
    expect(findPath(t, "/vm/localtime")).toEqual([]);
  });
  it("finds a key at any depth", () => {
    expect(findKey(t, "localtime").map((m) => m.path)).toEqual([
      "/domain/localtime",
      "/domain/image/hvm/localtime",
      "/domain/image/linux/localtime",
    ]);
  });
});

describe("canonical comparison", () => {
  it("compares meaning, not quoting or spacing", () => {
    const a = readSxpr("(vm (name 'x') (args \"a b\"))");
    const b = readSxpr("(vm\n  (name x)\n  (args 'a b'))");
    expect(sxEqual(a, b)).toBe(true);
    expect(canonical(a)).toBe(canonical(b));
    expect(sxEqual(a, readSxpr("(vm (name y) (args 'a b'))"))).toBe(false);
  });
});

// Property tests.
const atomArb = fc.string({ unit: fc.constantFrom(..."abcXYZ019 _-./:'\"\\()#;<>\n\t%+&=\u00e9\u20ac".split("")), maxLength: 12 });
const treeArb: fc.Arbitrary<Sx> = fc.letrec<{ node: Sx }>((tie) => ({
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, atomArb, fc.array(tie("node"), { maxLength: 5 })),
})).node;

describe("properties", () => {
  fcTest.prop([treeArb], { numRuns: 500, seed: 20121011 })("read ∘ print is the identity (xend style)", (t) => {
    expect(readSxpr(printSxpr(t))).toEqual(t);
  });

  fcTest.prop([treeArb], { numRuns: 300, seed: 7 })("read ∘ pretty print is the identity", (t) => {
    expect(readSxpr(printSxpr(t, { pretty: true }))).toEqual(t);
  });

  fcTest.prop([fc.string({ maxLength: 60 })], { numRuns: 2000, seed: 42 })(
    "the readers throw nothing but their own error on arbitrary text",
    (s) => {
      for (const dialect of ["xend", "libvirt"] as const) {
        try {
          readSxpr(s, { dialect });
        } catch (e) {
          expect(e).toBeInstanceOf(HarnessError);
          expect((e as HarnessError).code).toBe("input.sxpr");
          expect((e as HarnessError).pos?.line).toBeGreaterThanOrEqual(1);
        }
      }
      // libvirt's lenient mode never fails, like libvirt's C reader.
      readSxpr(s, { dialect: "libvirt", strict: false });
    },
  );
});

describe("libvirt dialect: input on which libvirt's C reader never ends", () => {
  it("a vertical tab or form feed between list elements is a positioned error, not a hang", () => {
    for (const ch of ["\v", "\f"]) {
      for (const strict of [true, false]) {
        try {
          readSxpr(`(vm (name x)${ch}(memory 1))`, { dialect: "libvirt", strict });
          expect.unreachable();
        } catch (e) {
          expect(e).toBeInstanceOf(HarnessError);
          expect((e as HarnessError).oneLine()).toMatch(/^<input>:1:13: character code (11|12) between list elements: libvirt's reader would loop forever here$/);
        }
      }
    }
  });

  fcTest.prop([fc.string({ unit: fc.constantFrom(..."(vm x)' \t\n\r\v\f\\".split("")), maxLength: 40 })], { numRuns: 3000, seed: 11 })(
    "the lenient libvirt reader ends on any text (it throws its own error or returns)",
    (s) => {
      try {
        readSxpr(s, { dialect: "libvirt", strict: false });
      } catch (e) {
        expect(e).toBeInstanceOf(HarnessError);
      }
    },
  );
});
