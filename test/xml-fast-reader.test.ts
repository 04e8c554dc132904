/**
 * harness/xml fast reader: whenever it accepts a text, xmldom accepts it too (no error) and builds
 * the same tree (element names, attributes in order with their values, text); anything outside its
 * plain subset is left to xmldom (null). Checked on every XML fixture and on generated documents.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DOMParser, parseSimpleXml } from "../harness/xml/index.js";

interface Canon {
  name: string;
  attrs: [string, string][];
  kids: (Canon | string)[];
}

interface AnyNode {
  nodeType: number;
  nodeName: string;
  childNodes: { length: number; [i: number]: AnyNode };
  attributes?: { length: number; item(i: number): { name: string; value: string } | null };
  textContent: string | null;
  tagName?: string;
  firstChild?: AnyNode | null;
  nextSibling?: AnyNode | null;
}

/** Elements and text (adjacent text merged); other node kinds would fail the comparison. */
function canon(el: AnyNode): Canon {
  const attrs: [string, string][] = [];
  for (let i = 0; i < (el.attributes?.length ?? 0); i++) {
    const a = el.attributes!.item(i)!;
    attrs.push([a.name, a.value]);
  }
  const kids: (Canon | string)[] = [];
  // Walk by firstChild/nextSibling (what clock.ts and cell.ts use) and check childNodes agrees.
  let k = 0;
  for (let c = el.firstChild ?? null; c; c = c.nextSibling ?? null, k++) {
    expect(el.childNodes[k]).toBe(c);
    if (c.nodeType === 1) kids.push(canon(c));
    else if (c.nodeType === 3) {
      const last = kids[kids.length - 1];
      if (typeof last === "string") kids[kids.length - 1] = last + (c.textContent ?? "");
      else kids.push(c.textContent ?? "");
    } else kids.push(`#node-type-${c.nodeType}`);
  }
  expect(k).toBe(el.childNodes.length);
  return { name: el.nodeName, attrs, kids };
}

function viaXmldom(text: string): { root: AnyNode | null; errors: string[] } {
  const errors: string[] = [];
  let root: AnyNode | null = null;
  try {
    const doc = new DOMParser({
      onError: (level: string, msg: string) => {
        if (level !== "warning") errors.push(msg);
        if (level !== "warning") throw new Error(msg);
      },
    }).parseFromString(text, "text/xml");
    root = doc.documentElement as unknown as AnyNode;
  } catch (e) {
    errors.push(String(e));
  }
  return { root, errors };
}

function sameAsXmldom(text: string): boolean {
  const fast = parseSimpleXml(text);
  if (!fast) return false;
  const x = viaXmldom(text);
  expect(x.errors).toEqual([]);
  expect(canon(fast.documentElement as unknown as AnyNode)).toEqual(canon(x.root!));
  const root = fast.documentElement;
  expect(root.textContent).toBe(x.root!.textContent);
  return true;
}

function xmlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) xmlFiles(p, out);
    else if (name.endsWith(".xml")) out.push(p);
  }
  return out;
}

describe("harness/xml fast reader", () => {
  it("builds xmldom's tree for every XML fixture it accepts, and accepts most of them", () => {
    const files = [...xmlFiles("fixtures/domains"), ...xmlFiles("fixtures/libvirt-tests")];
    expect(files.length).toBeGreaterThan(100);
    let accepted = 0;
    for (const f of files) if (sameAsXmldom(readFileSync(f, "utf8"))) accepted++;
    expect(accepted).toBeGreaterThan(files.length / 2);
  });

  it("decodes the predefined entities in text and attributes, attribute tabs/newlines as spaces", () => {
    const t = "<domain a='x&amp;y\tz' b=\"&lt;&quot;&apos;&gt;\">\n  <cmdline>a&amp;b &lt;c&gt; d</cmdline><e/><f x = 'y' /></domain>\n";
    expect(sameAsXmldom(t)).toBe(true);
    const el = parseSimpleXml(t)!.documentElement;
    expect(el.getAttribute("a")).toBe("x&y z");
    expect(el.getAttribute("missing")).toBeNull();
    expect(el.hasAttribute("b")).toBe(true);
  });

  it("leaves everything outside its subset to xmldom", () => {
    for (const t of [
      "<?xml version='1.0'?><a/>",
      "<a><!-- c --></a>",
      "<a><![CDATA[x]]></a>",
      "<!DOCTYPE a><a/>",
      "<a>&#65;</a>",
      "<a>&nbsp;</a>",
      "<q:a xmlns:q='u'/>",
      "<a xmlns='u'/>",
      "<a>\r\n</a>",
      "<a>é</a>",
      "<a b='1' b='2'/>",
      "<a b='1'c='2'/>",
      "<a><b></a></b>",
      "<a></a><b/>",
      "text<a/>",
      "<a/>text",
      "<a>x]]>y</a>",
      "<a b='<'/>",
      "",
      "   ",
      "<a",
    ])
      expect(parseSimpleXml(t), t).toBeNull();
  });

  it("on generated documents: whenever it accepts, xmldom agrees exactly", () => {
    const token = fc.constantFrom("<a>", "</a>", "<b x='1'>", "</b>", "<c/>", "<d y=\"&amp;\" z='&lt;'/>", " ", "\n", "\t", "t", "&amp;", "&gt;", "&", ">", "]]>", "'", '"', "<", "=", "/", "<e\n  w='a\tb'>", "</e>", "<!--x-->", "&quot;");
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(token, { maxLength: 14 }), (parts) => {
        if (sameAsXmldom(parts.join(""))) accepted++;
      }),
      { seed: 20261125, numRuns: 4000 },
    );
    fc.assert(
      fc.property(fc.array(fc.constantFrom("<b x='1'>", "</b>", "<c/>", "t", " ", "&amp;", "<d y=\"&amp;\" z='&lt;'/>"), { maxLength: 10 }), (parts) => {
        if (sameAsXmldom(`<a>${parts.join("")}</a>`)) accepted++;
      }),
      { seed: 7, numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });
});
