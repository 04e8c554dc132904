/**
 * Reading the XML text itself: well-formedness errors become `input.xml` with file, line and column;
 * small helpers mirror the XPath lookups libvirt's parser uses (`string(./a/b[1])` and friends).
 */
import { DOMParser, parseSimpleXml } from "../../xml/index.js";
import { HarnessError } from "../../errors.js";

/** The parts of the DOM the reader uses (harness/xml's nodes satisfy this). */
export interface XNode {
  nodeType: number;
  nodeName: string;
  childNodes: { length: number; [i: number]: XNode };
  getAttribute?(name: string): string | null;
  hasAttribute?(name: string): boolean;
  textContent: string | null;
}

const ELEMENT = 1;

export function parseXmlDocument(text: string, file?: string): XNode {
  // One reader (saxes, harness/xml): a well-formed document in one pass; anything else is read again
  // with its problems collected, so the error names libvirt's message and the position.
  const fast = parseSimpleXml(text);
  if (fast) return fast.documentElement as unknown as XNode;
  const problems: { level: string; message: string }[] = [];
  let root: XNode | null = null;
  try {
    const doc = new DOMParser({
      onError: (level: string, message: string) => {
        problems.push({ level, message });
        if (level !== "warning") throw new Error(message);
      },
    }).parseFromString(text, "text/xml");
    root = (doc.documentElement as unknown as XNode) ?? null;
  } catch (e) {
    const loc = (e as { locator?: { lineNumber?: number; columnNumber?: number } }).locator;
    const msg = problems.find((p) => p.level !== "warning")?.message ?? (e as Error).message;
    throw new HarnessError("input.xml", `malformed XML: ${msg}`, {
      // Without a locator (e.g. an empty file: no root element) the document as a whole is at fault: 1:1.
      pos: loc?.lineNumber && loc.lineNumber > 0 ? { file, line: loc.lineNumber, column: loc.columnNumber } : { file, line: 1, column: 1 },
      cause: e,
    });
  }
  if (!root) throw new HarnessError("input.xml", "malformed XML: no root element", { pos: { file, line: 1, column: 1 } });
  return root;
}

export function childElements(node: XNode, name?: string): XNode[] {
  const out: XNode[] = [];
  for (let i = 0; i < node.childNodes.length; i++) {
    const c = node.childNodes[i];
    if (c.nodeType === ELEMENT && (name === undefined || c.nodeName === name)) out.push(c);
  }
  return out;
}

/** The first element reached by a path of child names (`./a/b[1]` picks the first in document order). */
export function firstPath(node: XNode, path: string[], from = 0): XNode | undefined {
  // allPath(node, path)[0] without building the lists: depth first, children in document order.
  if (from === path.length) return node;
  const name = path[from];
  const cs = node.childNodes;
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    if (c.nodeType === ELEMENT && c.nodeName === name) {
      const r = firstPath(c, path, from + 1);
      if (r) return r;
    }
  }
  return undefined;
}

/** Every element reached by a path of child names (`./devices/disk`). */
export function allPath(node: XNode, path: string[]): XNode[] {
  let cur: XNode[] = [node];
  for (const name of path) {
    const next: XNode[] = [];
    for (const n of cur) {
      const cs = n.childNodes;
      for (let i = 0; i < cs.length; i++) {
        const c = cs[i];
        if (c.nodeType === ELEMENT && c.nodeName === name) next.push(c);
      }
    }
    cur = next;
  }
  return cur;
}

/** XPath string value of an element, as libvirt's virXPathString: an empty string counts as absent. */
export function textOf(node: XNode | undefined): string | undefined {
  if (!node) return undefined;
  const t = node.textContent ?? "";
  return t === "" ? undefined : t;
}

/** `virXPathString("string(./a/b[1])")`. */
export function pathText(node: XNode, path: string[]): string | undefined {
  return textOf(firstPath(node, path));
}

/** An attribute as libvirt's virXMLPropString: absent → undefined (an empty value stays ""). */
export function attr(node: XNode | undefined, name: string): string | undefined {
  if (!node || !node.hasAttribute || !node.getAttribute) return undefined;
  if (!node.hasAttribute(name)) return undefined;
  return node.getAttribute(name) ?? "";
}

/** `string(./a/@x)` (XPath): an empty value counts as absent. */
export function pathAttr(node: XNode, path: string[], name: string): string | undefined {
  const v = attr(firstPath(node, path), name);
  return v === "" ? undefined : v;
}
