import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { compareForms, parseForm, parseFormPairs, unquotePlus } from "../harness/xend/form.js";
import { encodeForm } from "../harness/libvirt/wire.js";

/** Python 2.7's own cgi.parse_qs, when this machine has it (the decoder xend uses). */
function python27(): string | undefined {
  const candidates: string[] = [];
  try {
    const root = execFileSync("pyenv", ["root"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    candidates.push(`${root}/versions/2.7.18/bin/python2.7`);
  } catch {
    /* no pyenv */
  }
  candidates.push("python2.7");
  for (const c of candidates) {
    try {
      execFileSync(c, ["-c", "import cgi"], { stdio: "ignore" });
      return c;
    } catch {
      /* next */
    }
  }
  return undefined;
}
const PY = python27();

describe("form decoding as xend's cgi.parse_qs", () => {
  it("decodes + as space and %XX, keeps invalid % sequences, splits on & and ;", () => {
    expect(unquotePlus("a+b%20c%41%zz%4")).toBe("a b cA%zz%4");
    expect(parseFormPairs("op=new&config=(a;b)+c%41&x&=v&&k=1&k=2").map((p) => [p.name, p.value])).toEqual([
      ["op", "new"],
      ["config", "(a"],
      ["b) cA", ""],
      ["x", ""],
      ["", "v"],
      ["k", "1"],
      ["k", "2"],
    ]);
    expect(parseForm("k=1&k=2&j=%C3%A9").get("k")).toEqual(["1", "2"]);
    expect(parseForm("j=%C3%A9").get("j")).toEqual(["\u00e9"]);
  });

  it.skipIf(!PY)(`agrees with Python 2.7's cgi.parse_qs${PY ? "" : " (skipped: no python2.7 here)"}`, () => {
    const bodies = [
      "op=new&config=(vm (name x) (args 'a+b c%41d'))",
      "op=new&config=%28vm%20%28name%20x%29%29;extra=1&&=&k",
      "a=%4&b=%g1&c=100%25&d=%2B+%2b",
      encodeForm("uri", [["op", "create"], ["config", "(vm (name 'x y') (on_crash restart))"]]),
      encodeForm("raw", [["op", "create"], ["config", "(vm (name 'x y')\n (args 'a&b'))"]]),
    ];
    for (const body of bodies) {
      const script =
        "import cgi,sys,json\nd=cgi.parse_qs(sys.stdin.read(),keep_blank_values=True)\n" +
        "print(json.dumps(dict((k.decode('latin1'),[v.decode('latin1') for v in vs]) for k,vs in d.items()),sort_keys=True))";
      const out = execFileSync(PY!, ["-c", script], { input: body, encoding: "utf8" });
      const py = JSON.parse(out) as Record<string, string[]>;
      const ours = Object.fromEntries([...parseForm(body, "latin1").entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
      expect(ours, body).toEqual(py);
    }
  });
});

describe("matching request bodies by meaning", () => {
  const sxpr = "(vm (name xc-hvm) (image (hvm (kernel /usr/lib/xen/boot/hvmloader) (localtime 1))) (localtime 1))";
  const recorded = encodeForm("uri", [["op", "new"], ["config", sxpr]]);

  it("identical bodies match", () => {
    expect(compareForms(recorded, recorded)).toEqual({ ok: true });
  });

  it("a different wire encoding, quoting and spacing of the same config matches", () => {
    const requoted = "(vm (name 'xc-hvm')\n  (image (hvm (kernel \"/usr/lib/xen/boot/hvmloader\") (localtime '1')))\n  (localtime 1))";
    expect(compareForms(recorded, encodeForm("raw", [["op", "new"], ["config", requoted]]))).toEqual({ ok: true });
    expect(compareForms(recorded, `op=new&config=${requoted.replace(/ /g, "+")}`)).toEqual({ ok: true });
    // Field order between different names does not matter to xend.
    expect(compareForms(recorded, encodeForm("uri", [["config", sxpr], ["op", "new"]]))).toEqual({ ok: true });
  });

  it("a different value does not match, and says where", () => {
    const r = compareForms(recorded, encodeForm("uri", [["op", "new"], ["config", sxpr.replace("(localtime 1)))", "(localtime 0)))")]]));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.why).toMatch(/field 'config': the SXPR differs: recorded 1, sent 0/);
  });

  it("a different op, a missing or extra field, a repeated field do not match", () => {
    const cfg = ["config", sxpr] as [string, string];
    expect(compareForms(recorded, encodeForm("uri", [["op", "create"], cfg])).ok).toBe(false);
    expect(compareForms(recorded, encodeForm("uri", [cfg])).ok).toBe(false);
    expect(compareForms(recorded, encodeForm("uri", [["op", "new"], cfg, ["x", "1"]])).ok).toBe(false);
    expect(compareForms(recorded, encodeForm("uri", [["op", "new"], cfg, ["op", "new"]])).ok).toBe(false);
  });

  it("a + that xend turns into a space changes the meaning (as it does for xend)", () => {
    const withPlus = "(vm (name x) (image (linux (args 'a+b'))))";
    const a = encodeForm("uri", [["op", "new"], ["config", withPlus]]);
    const b = encodeForm("raw", [["op", "new"], ["config", withPlus]]);
    expect(compareForms(a, b).ok).toBe(false);
    expect(compareForms(encodeForm("uri", [["op", "new"], ["config", withPlus.replace("+", " ")]]), b)).toEqual({ ok: true });
  });

  it("texts that are not SXPR are compared as text", () => {
    expect(compareForms("op=new&config=(vm", "op=new&config=(vm").ok).toBe(true);
    expect(compareForms("op=new&config=(vm", "op=new&config=(vm ").ok).toBe(false);
  });
});
