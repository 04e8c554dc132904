/**
 * The XML reader every part of the harness uses: saxes (a maintained, strict, non-validating XML 1.0
 * parser, the one jsdom uses), through its public API, building the small read-only tree the harness
 * reads: nodeType, nodeName, tagName, childNodes, firstChild, nextSibling, attributes (length, item,
 * [i]), getAttribute, hasAttribute, textContent, data, documentElement. Parsing, entities,
 * attribute-value normalisation and well-formedness are saxes's; this module only keeps what its
 * events describe. Why saxes and not @xmldom/xmldom: DECISIONS.md beside this file (measured).
 *
 * `DOMParser` keeps the shape the callers were written against (xmldom's): `new DOMParser({ onError })
 * .parseFromString(text, "text/xml")`, each problem given to `onError(level, message)`; a callback that
 * throws stops the parse, and the thrown error carries `locator: { lineNumber, columnNumber }`. Without
 * a throwing callback the parse goes on (saxes recovers) and returns what it built. `parseSimpleXml`
 * returns the document of a text with no problem at all, else null.
 */
import { SaxesParser } from "saxes";

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const COMMENT_NODE = 8;
const DOCUMENT_NODE = 9;

export type XmlNode = XmlElement | XmlText | XmlComment;

const NO_CHILDREN: readonly XmlNode[] = Object.freeze([]);

export class XmlText {
  readonly nodeType = TEXT_NODE;
  readonly nodeName = "#text";
  readonly childNodes: readonly XmlNode[] = NO_CHILDREN;
  readonly firstChild = null;
  nextSibling: XmlNode | null = null;
  constructor(public data: string) {}
  get textContent(): string {
    return this.data;
  }
  get nodeValue(): string {
    return this.data;
  }
}

export class XmlComment {
  readonly nodeType = COMMENT_NODE;
  readonly nodeName = "#comment";
  readonly childNodes: readonly XmlNode[] = NO_CHILDREN;
  readonly firstChild = null;
  nextSibling: XmlNode | null = null;
  constructor(readonly data: string) {}
  get textContent(): string {
    return this.data;
  }
  get nodeValue(): string {
    return this.data;
  }
}

export interface XmlAttr {
  readonly name: string;
  readonly value: string;
  readonly nodeName: string;
  readonly nodeValue: string;
}

/** The attributes as a DOM NamedNodeMap is read: `length`, `item(i)` and `[i]`, in document order. */
export interface XmlAttrList {
  readonly length: number;
  item(i: number): XmlAttr | null;
  readonly [i: number]: XmlAttr;
}

export class XmlElement {
  readonly nodeType = ELEMENT_NODE;
  readonly childNodes: XmlNode[] = [];
  nextSibling: XmlNode | null = null;
  private attrList: XmlAttrList | undefined;
  constructor(
    readonly tagName: string,
    private readonly attrs: Record<string, string>,
  ) {}
  /** Built when first read (most elements are only asked getAttribute). */
  get attributes(): XmlAttrList {
    if (!this.attrList) {
      const attrs = this.attrs;
      const list = Object.keys(attrs).map((name) => ({ name, value: attrs[name], nodeName: name, nodeValue: attrs[name] }));
      this.attrList = Object.assign(list, { item: (i: number) => list[i] ?? null }) as unknown as XmlAttrList;
    }
    return this.attrList;
  }
  get nodeName(): string {
    return this.tagName;
  }
  get firstChild(): XmlNode | null {
    return this.childNodes[0] ?? null;
  }
  getAttribute(name: string): string | null {
    return Object.prototype.hasOwnProperty.call(this.attrs, name) ? this.attrs[name] : null;
  }
  hasAttribute(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.attrs, name);
  }
  get textContent(): string {
    let s = "";
    for (const c of this.childNodes) if (c.nodeType !== COMMENT_NODE) s += c.textContent;
    return s;
  }
}

export interface XmlDocument {
  readonly nodeType: typeof DOCUMENT_NODE;
  readonly documentElement: XmlElement | null;
}

/** Where a problem is: 1-based line and column, as xmldom's locator named them. */
export interface XmlLocator {
  lineNumber: number;
  columnNumber: number;
}

export interface DOMParserOptions {
  /** Called with each problem ("error" or "fatalError"); throw to stop the parse. */
  onError?: (level: string, message: string) => void;
}

function append(parent: XmlElement, node: XmlNode): void {
  const kids = parent.childNodes;
  const last = kids[kids.length - 1];
  if (last) last.nextSibling = node;
  kids.push(node);
}

/** What one parse builds; the parser's handlers write into the current one. */
interface Build {
  stack: XmlElement[];
  root: XmlElement | null;
  problems: number;
  onProblem: (message: string, at: XmlLocator) => void;
}

/**
 * One saxes parser for the process, reused: saxes resets itself at close() (its documented way to
 * parse again), which saves building a parser and its handlers per document. A parse stopped by a
 * throwing problem callback leaves it mid-document, so it is dropped and the next parse makes another.
 */
let shared: { parser: SaxesParser<{ position: true }>; b: Build } | undefined;

function sharedParser(b: Build): SaxesParser<{ position: true }> {
  if (shared) {
    shared.b = b;
    return shared.parser;
  }
  const parser = new SaxesParser({ position: true });
  const sh: { parser: SaxesParser<{ position: true }>; b: Build } = { parser, b };
  // saxes counts the column of the last character read (0 before any on the line): at least 1.
  const where = (): XmlLocator => ({ lineNumber: parser.line, columnNumber: Math.max(1, parser.column) });
  parser.on("error", (e: Error) => {
    sh.b.problems++;
    sh.b.onProblem(e.message.replace(/^\d+:\d+: /, ""), where());
  });
  parser.on("opentag", (tag) => {
    const cur = sh.b;
    // Without the xmlns option saxes gives every attribute as a plain string.
    const el = new XmlElement(tag.name, tag.attributes as Record<string, string>);
    const parent = cur.stack[cur.stack.length - 1];
    if (parent) append(parent, el);
    else if (!cur.root) cur.root = el;
    cur.stack.push(el);
  });
  parser.on("closetag", () => {
    sh.b.stack.pop();
  });
  const addText = (data: string) => {
    const parent = sh.b.stack[sh.b.stack.length - 1];
    if (!parent) return; // white space (or, after an error, text) outside the root
    const last = parent.childNodes[parent.childNodes.length - 1];
    if (last instanceof XmlText) last.data += data;
    else append(parent, new XmlText(data));
  };
  parser.on("text", addText);
  parser.on("cdata", addText);
  parser.on("comment", (data: string) => {
    const parent = sh.b.stack[sh.b.stack.length - 1];
    if (parent) append(parent, new XmlComment(data));
  });
  shared = sh;
  return parser;
}

/** Parse `text` into the tree; each problem goes to `onProblem` (which may throw to stop). */
function build(text: string, onProblem: (message: string, at: XmlLocator) => void): XmlDocument {
  const b: Build = { stack: [], root: null, problems: 0, onProblem };
  const parser = sharedParser(b);
  try {
    parser.write(text).close();
  } catch (e) {
    shared = undefined;
    throw e;
  }
  if (!b.root && !b.problems) onProblem("missing root element", { lineNumber: 1, columnNumber: 1 });
  return { nodeType: DOCUMENT_NODE, documentElement: b.root };
}

/** xmldom's DOMParser shape over saxes (see the head of this file). */
export class DOMParser {
  constructor(private readonly opts: DOMParserOptions = {}) {}
  parseFromString(text: string, _mimeType = "text/xml"): XmlDocument {
    const onError = this.opts.onError;
    return build(text, (message, at) => {
      if (!onError) return;
      try {
        onError("error", message);
      } catch (e) {
        if (e !== null && typeof e === "object") (e as { locator?: XmlLocator }).locator = at;
        throw e;
      }
    });
  }
}

class Problem extends Error {}

/** The document of a text saxes reads without any problem; null for anything else (callers then report). */
export function parseSimpleXml(text: string): XmlDocument | null {
  try {
    return build(text, (m) => {
      throw new Problem(m);
    });
  } catch (e) {
    if (e instanceof Problem) return null;
    throw e;
  }
}
