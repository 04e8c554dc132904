/**
 * harness/xml: the tree built from saxes's events. A printer/reader property (any tree printed as XML
 * with escaped text and attributes reads back as the same tree), every XML fixture of the repository
 * reads without a problem, and problems reach onError with their line and column.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DOMParser, parseSimpleXml, type XmlElement, type XmlNode } from "../harness/xml/index.js";

interface Canon {
  name: string;
  attrs: [string, string][];
  kids: (Canon | string)[];
}

function canon(el: XmlElement): Canon {
  const attrs: [string, string][] = [];
  for (let i = 0; i < el.attributes.length; i++) attrs.push([el.attributes.item(i)!.name, el.attributes[i].value]);
  const kids: (Canon | string)[] = [];
  let k = 0;
  // firstChild/nextSibling and childNodes agree
  for (let c: XmlNode | null = el.firstChild; c; c = c.nextSibling, k++) {
    expect(el.childNodes[k]).toBe(c);
    if (c.nodeType === 1) kids.push(canon(c as XmlElement));
    else if (c.nodeType === 3) kids.push(c.textContent);
  }
  expect(k).toBe(el.childNodes.length);
  return { name: el.tagName, attrs, kids };
}

const esc = (s: string, attr: boolean) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(attr ? /"/g : /$^/, "&quot;");
function print(c: Canon): string {
  const attrs = c.attrs.map(([k, v]) => ` ${k}="${esc(v, true)}"`).join("");
  if (!c.kids.length) return `<${c.name}${attrs}/>`;
  return `<${c.name}${attrs}>${c.kids.map((k) => (typeof k === "string" ? esc(k, false) : print(k))).join("")}</${c.name}>`;
}

const name = fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,6}$/);
const textChar = fc.constantFrom("a", "Z", "0", " ", "<", ">", "&", "'", '"', "é", "\u2028", "x=1");
const text = fc.array(textChar, { minLength: 1, maxLength: 8 }).map((a) => a.join(""));
const tree: fc.Arbitrary<Canon> = fc.letrec<{ el: Canon }>((tie) => ({
  el: fc.record({
    name,
    attrs: fc.uniqueArray(fc.tuple(name, fc.array(textChar, { maxLength: 6 }).map((a) => a.join(""))), { selector: ([k]) => k, maxLength: 3 }),
    kids: fc.array(fc.oneof({ depthSize: "small" }, text, tie("el")), { maxLength: 4 }),
  }),
})).el.map(function merge(c: Canon): Canon {
  // adjacent texts read back as one text node
  const kids: (Canon | string)[] = [];
  for (const k of c.kids) {
    const m = typeof k === "string" ? k : merge(k);
    if (typeof m === "string" && typeof kids[kids.length - 1] === "string") kids[kids.length - 1] += m;
    else kids.push(m);
  }
  return { ...c, kids };
});

function xmlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...xmlFiles(p));
    else if (p.endsWith(".xml")) out.push(p);
  }
  return out;
}

describe("harness/xml", () => {
  it("reads back any tree it is given as XML (elements, attributes in order, escaped text)", () => {
    fc.assert(
      fc.property(tree, (t) => {
        const doc = parseSimpleXml(print(t));
        expect(doc).not.toBeNull();
        expect(canon(doc!.documentElement!)).toEqual(t);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it("reads entities, character references, CDATA and comments as a DOM does", () => {
    const doc = parseSimpleXml("<?xml version='1.0'?>\n<!-- c --><d a='x&#9;y&amp;' b=\"1\" c='p\tq\nr'>t&lt;&#65;<![CDATA[<raw>]]><!--n--><e/></d>\n")!;
    const d = doc.documentElement!;
    expect(d.getAttribute("a")).toBe("x\ty&"); // a character reference is kept as written
    expect(d.getAttribute("c")).toBe("p q r"); // attribute-value normalisation: a literal tab or newline reads as a space
    expect(d.getAttribute("b")).toBe("1");
    expect(d.getAttribute("none")).toBeNull();
    expect(d.hasAttribute("b")).toBe(true);
    expect(d.textContent).toBe("t<A<raw>");
    expect(d.childNodes.map((c) => c.nodeType)).toEqual([3, 8, 1]);
  });

  it("reads every XML file of fixtures/ without a problem", () => {
    const files = xmlFiles(join(__dirname, "..", "fixtures"));
    expect(files.length).toBeGreaterThan(100);
    const bad = files.filter((f) => parseSimpleXml(readFileSync(f, "utf8")) === null);
    expect(bad).toEqual([]);
  });

  it("gives problems to onError; a throwing callback stops the parse with the line and column", () => {
    const seen: string[] = [];
    const doc = new DOMParser({ onError: (level, m) => seen.push(`${level}: ${m}`) }).parseFromString("<domain>\n  <name>x</nam>\n</domain>");
    expect(seen.length).toBeGreaterThan(0);
    expect(doc.documentElement?.tagName).toBe("domain");
    expect(parseSimpleXml("<domain>\n  <name>x</nam>\n</domain>")).toBeNull();
    let thrown: unknown;
    try {
      new DOMParser({
        onError: (_l, m) => {
          throw new Error(m);
        },
      }).parseFromString("<domain>\n  <name>x</nam>\n</domain>");
    } catch (e) {
      thrown = e;
    }
    expect((thrown as { locator?: { lineNumber: number; columnNumber: number } }).locator).toEqual({ lineNumber: 2, columnNumber: expect.any(Number) });
    const empty: string[] = [];
    expect(new DOMParser({ onError: (_l, m) => empty.push(m) }).parseFromString("").documentElement).toBeNull();
    expect(empty).toEqual(["document must contain a root element."]);
  });

  it("parses correctly after a parse stopped half-way (the reused parser starts clean)", () => {
    expect(parseSimpleXml("<a><b>")).toBeNull();
    expect(parseSimpleXml("<a x='1'><b/>")).toBeNull();
    expect(() =>
      new DOMParser({
        onError: () => {
          throw new Error("stop");
        },
      }).parseFromString("<a><b></c></a>"),
    ).toThrow("stop");
    const doc = parseSimpleXml("<d><e f='g'>h</e></d>")!;
    expect(doc.documentElement!.tagName).toBe("d");
    expect(doc.documentElement!.textContent).toBe("h");
  });
});
