/**
 * Paths into SXPR trees, as xend and libvirt name them: `/domain/image/hvm/localtime` is the element
 * `(localtime ...)` inside `(hvm ...)` inside `(image ...)` inside the root `(domain ...)`.
 *
 * A path step may be `*` (any element) or `{hvm,linux}` (one of several names). Unlike libvirt's
 * `sexpr_lookup`, which stops at the first match, these functions return every match.
 */
import type { Sx, SxList } from "./types.js";

export interface PathMatch {
  /** The concrete path of the element, e.g. `/domain/image/hvm/localtime`. */
  path: string;
  /** The element itself, `(localtime 1)`. */
  node: SxList;
  /** Its value when it has exactly one atom child (`1`), else undefined. */
  value: string | undefined;
}

function stepMatches(step: string, name: string): boolean {
  if (step === "*") return true;
  if (step.startsWith("{") && step.endsWith("}")) return step.slice(1, -1).split(",").includes(name);
  return step === name;
}

function valueOf(node: SxList): string | undefined {
  return node.length === 2 && typeof node[1] === "string" ? node[1] : undefined;
}

/** Every element matching `pattern`, in document order. */
export function findPath(tree: Sx, pattern: string): PathMatch[] {
  const steps = pattern.split("/").filter((s) => s.length > 0);
  const out: PathMatch[] = [];
  if (!Array.isArray(tree) || typeof tree[0] !== "string" || steps.length === 0) return out;
  if (!stepMatches(steps[0], tree[0])) return out;
  const walk = (node: SxList, depth: number, prefix: string) => {
    if (depth === steps.length) {
      out.push({ path: prefix, node, value: valueOf(node) });
      return;
    }
    for (let i = 1; i < node.length; i++) {
      const child = node[i];
      if (Array.isArray(child) && typeof child[0] === "string" && stepMatches(steps[depth], child[0])) {
        walk(child, depth + 1, `${prefix}/${child[0]}`);
      }
    }
  };
  walk(tree, 1, `/${tree[0]}`);
  return out;
}

/** The value of the first match of `pattern` (libvirt's `sexpr_node`), or undefined. */
export function valueAt(tree: Sx, pattern: string): string | undefined {
  return findPath(tree, pattern)[0]?.value;
}

/** Every element named `key` at any depth, with its path (e.g. all `localtime` elements). */
export function findKey(tree: Sx, key: string): PathMatch[] {
  const out: PathMatch[] = [];
  const walk = (node: Sx, prefix: string) => {
    if (!Array.isArray(node) || typeof node[0] !== "string") return;
    const here = `${prefix}/${node[0]}`;
    if (node[0] === key && prefix !== "") out.push({ path: here, node, value: valueOf(node) });
    for (let i = 1; i < node.length; i++) walk(node[i], here);
  };
  walk(tree, "");
  return out;
}
