/**
 * A fast reader for the plain XML that domain documents almost always are: ASCII, elements with
 * quoted attributes, text, the five predefined entity references, whitespace around the root. It
 * builds a small read-only tree with the DOM members the harness reads (nodeType, nodeName, tagName,
 * childNodes, firstChild, nextSibling, attributes, getAttribute, hasAttribute, textContent,
 * documentElement), equal to what @xmldom/xmldom builds for the same text.
 *
 * Anything else (comments, CDATA, processing instructions, a DOCTYPE, namespaces, numeric character
 * references, carriage returns, non-ASCII, control characters, any malformation) returns null, and
 * the caller parses with xmldom as before, so errors, warnings and every unusual case stay exactly
 * xmldom's. See DECISIONS.md beside this file.
 */

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

export type FastNode = FastElement | FastText;

const NO_CHILDREN: readonly FastNode[] = Object.freeze([]);

export class FastText {
  readonly nodeType = TEXT_NODE;
  readonly nodeName = "#text";
  readonly childNodes: readonly FastNode[] = NO_CHILDREN;
  readonly firstChild = null;
  nextSibling: FastNode | null = null;
  constructor(readonly data: string) {}
  get textContent(): string {
    return this.data;
  }
  get nodeValue(): string {
    return this.data;
  }
}

export interface FastAttr {
  readonly name: string;
  readonly value: string;
}

/** The attributes as xmldom's NamedNodeMap is read: `length`, `item(i)` and `[i]`. */
export interface FastAttrList {
  readonly length: number;
  item(i: number): FastAttr | null;
  readonly [i: number]: FastAttr;
}

export class FastElement {
  readonly nodeType = ELEMENT_NODE;
  readonly childNodes: FastNode[] = [];
  nextSibling: FastNode | null = null;
  private attrView: FastAttrList | undefined;
  constructor(
    readonly tagName: string,
    private readonly attrList: FastAttr[],
  ) {}
  get attributes(): FastAttrList {
    if (!this.attrView) {
      const list = this.attrList.slice() as FastAttr[] & { item?: (i: number) => FastAttr | null };
      list.item = (i: number) => list[i] ?? null;
      this.attrView = list as unknown as FastAttrList;
    }
    return this.attrView;
  }
  get nodeName(): string {
    return this.tagName;
  }
  get firstChild(): FastNode | null {
    return this.childNodes[0] ?? null;
  }
  getAttribute(name: string): string | null {
    for (const a of this.attrList) if (a.name === name) return a.value;
    return null;
  }
  hasAttribute(name: string): boolean {
    for (const a of this.attrList) if (a.name === name) return true;
    return false;
  }
  get textContent(): string {
    let s = "";
    for (const c of this.childNodes) s += c.textContent;
    return s;
  }
}

export interface FastDocument {
  readonly documentElement: FastElement;
}

const isNameStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95; // a-z A-Z _
const isNameChar = (c: number) => isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46; // 0-9 - .
const isSpace = (c: number) => c === 32 || c === 9 || c === 10;

/** Where the XML name starting at `i` ends, or -1 when none starts there. */
function nameEnd(text: string, i: number, n: number): number {
  if (i >= n || !isNameStart(text.charCodeAt(i))) return -1;
  i++;
  while (i < n && isNameChar(text.charCodeAt(i))) i++;
  return i;
}

/** Where the white space starting at `i` ends (`i` when there is none). */
function spaceEnd(text: string, i: number, n: number): number {
  while (i < n && isSpace(text.charCodeAt(i))) i++;
  return i;
}

const NOT_PLAIN = /[^\t\n\x20-\x7e]/;
const TAB_NL = /[\t\n]/;

/** Decode the predefined entity references of `s`; null when it holds any other `&`. */
function decode(s: string): string | null {
  if (s.indexOf("&") < 0) return s;
  let out = "";
  let i = 0;
  for (;;) {
    const amp = s.indexOf("&", i);
    if (amp < 0) return out + s.slice(i);
    const semi = s.indexOf(";", amp + 1);
    if (semi < 0) return null;
    const rep = ENTITIES[s.slice(amp + 1, semi)];
    if (rep === undefined) return null;
    out += s.slice(i, amp) + rep;
    i = semi + 1;
  }
}

/** The tree of `text` when it is plain XML (see the file comment), else null. */
export function parseSimpleXml(text: string): FastDocument | null {
  const n = text.length;
  // Printable ASCII, tab and newline only.
  if (NOT_PLAIN.test(text)) return null;
  // The position is a local variable (no closures over it): names end at nameEnd(), white space at spaceEnd().
  let i = spaceEnd(text, 0, n);
  if (text.charCodeAt(i) !== 60) return null; // '<'
  const stack: FastElement[] = [];
  let root: FastElement | null = null;
  const append = (parent: FastElement, child: FastNode) => {
    const kids = parent.childNodes;
    if (kids.length) kids[kids.length - 1].nextSibling = child;
    kids.push(child);
  };

  while (i < n) {
    if (text.charCodeAt(i) === 60) {
      const next = text.charCodeAt(i + 1);
      if (next === 47) {
        // '</name' S? '>'
        i += 2;
        const ne = nameEnd(text, i, n);
        if (ne < 0) return null;
        const nm = text.slice(i, ne);
        i = spaceEnd(text, ne, n);
        if (text.charCodeAt(i) !== 62) return null;
        i++;
        const open = stack.pop();
        if (!open || open.tagName !== nm) return null;
        if (!stack.length) break;
        continue;
      }
      // '<name' (S name S? '=' S? quoted)* S? '/'? '>'
      i++;
      if (root && !stack.length) return null;
      const te = nameEnd(text, i, n);
      if (te < 0) return null;
      const tag = text.slice(i, te);
      i = te;
      if (tag.startsWith("xml") || tag.startsWith("XML")) return null;
      const attrs: FastAttr[] = [];
      let selfClosing = false;
      for (;;) {
        const se = spaceEnd(text, i, n);
        const spaced = se > i;
        i = se;
        const c = text.charCodeAt(i);
        if (c === 62) {
          i++;
          break;
        }
        if (c === 47) {
          if (text.charCodeAt(i + 1) !== 62) return null;
          i += 2;
          selfClosing = true;
          break;
        }
        if (!spaced) return null;
        const ae = nameEnd(text, i, n);
        if (ae < 0) return null;
        const an = text.slice(i, ae);
        if (an.startsWith("xml") || an.startsWith("XML")) return null;
        i = spaceEnd(text, ae, n);
        if (text.charCodeAt(i) !== 61) return null; // '='
        i = spaceEnd(text, i + 1, n);
        const q = text.charCodeAt(i);
        if (q !== 34 && q !== 39) return null;
        const end = text.indexOf(q === 34 ? '"' : "'", i + 1);
        if (end < 0) return null;
        const raw = text.slice(i + 1, end);
        if (raw.indexOf("<") >= 0) return null;
        // xmldom: tab and newline become spaces, then entity references are replaced.
        const value = decode(TAB_NL.test(raw) ? raw.replace(/[\t\n]/g, " ") : raw);
        if (value === null) return null;
        for (const a of attrs) if (a.name === an) return null;
        attrs.push({ name: an, value });
        i = end + 1;
      }
      const el = new FastElement(tag, attrs);
      if (stack.length) append(stack[stack.length - 1], el);
      else root = el;
      if (selfClosing) {
        if (!stack.length) break;
      } else stack.push(el);
      continue;
    }
    // Text up to the next '<'.
    const lt = text.indexOf("<", i);
    if (lt < 0 || !stack.length) return null;
    const raw = text.slice(i, lt);
    if (raw.indexOf("]]>") >= 0) return null;
    const data = decode(raw);
    if (data === null) return null;
    append(stack[stack.length - 1], new FastText(data));
    i = lt;
  }
  if (!root || stack.length) return null;
  // Only white space may follow the root element.
  if (spaceEnd(text, i, n) !== n) return null;
  return { documentElement: root };
}
