/**
 * harness/xml: xmldom with its per-end-tag RegExp construction memoized. Parsing must give the same
 * documents and the same errors as before; the memo must really be in place (no timing asserted).
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { XMLSerializer } from "@xmldom/xmldom";
import { DOMParser, XMLDOM_REG_MEMOIZED } from "../harness/xml/index.js";

const grammar = createRequire(import.meta.url)("@xmldom/xmldom/lib/grammar.js") as { reg: (...a: unknown[]) => RegExp; QName_group: RegExp; S_OPT: RegExp };

function errorsOf(xml: string): string[] {
  const out: string[] = [];
  try {
    new DOMParser({ onError: (level: string, msg: string) => out.push(`${level}: ${msg}`) }).parseFromString(xml, "text/xml");
  } catch (e) {
    out.push(`thrown: ${(e as Error).message}`);
  }
  return out;
}

describe("harness/xml DOMParser", () => {
  it("memoizes xmldom's reg: same arguments give the same stateless RegExp", () => {
    expect(XMLDOM_REG_MEMOIZED).toBe(true);
    const a = grammar.reg("^", grammar.QName_group, grammar.S_OPT, "$");
    const b = grammar.reg("^", grammar.QName_group, grammar.S_OPT, "$");
    expect(a).toBe(b);
    expect(a.global || a.sticky).toBe(false);
    expect(a.exec("domain ")?.[1]).toBe("domain");
    expect(grammar.reg("^", grammar.QName_group)).not.toBe(a);
  });

  it("parses documents as before, end tags included", () => {
    const xml = "<domain type='xen'>\n  <name>a&amp;b</name>\n  <clock offset='variable' adjustment='3600'/>\n  <os><cmdline>x=1 &lt;y&gt;</cmdline></os>\n</domain>";
    const d1 = new DOMParser().parseFromString(xml, "text/xml");
    const d2 = new DOMParser().parseFromString(xml, "text/xml");
    expect(new XMLSerializer().serializeToString(d1)).toBe(new XMLSerializer().serializeToString(d2));
    expect(d1.getElementsByTagName("cmdline")[0].textContent).toBe("x=1 <y>");
    expect(d1.getElementsByTagName("name")[0].textContent).toBe("a&b");
    expect(d1.getElementsByTagName("clock")[0].getAttribute("adjustment")).toBe("3600");
  });

  it("reports malformed end tags exactly as xmldom does, every time", () => {
    const bad = "<domain><name>x</nam></domain>";
    const first = errorsOf(bad);
    expect(first.length).toBeGreaterThan(0);
    expect(errorsOf(bad)).toEqual(first);
    expect(errorsOf("<domain><name>x</name ></domain>")).toEqual([]);
  });
});
