/**
 * Canonical comparison of SXPR trees: two texts mean the same when they read to the same tree,
 * whatever their quoting, spacing and line breaks.
 */
import { printSxpr } from "./print.js";
import type { Sx } from "./types.js";

export function sxEqual(a: Sx, b: Sx): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sxEqual(a[i], b[i])) return false;
  return true;
}

/** One canonical line for a tree (xend 4.1.2's printing): equal trees give equal strings. */
export function canonical(x: Sx): string {
  return printSxpr(x, { style: "xend" });
}

/** The first place two trees differ, as a path of indexes and the two subtrees; undefined if equal. */
export function firstDifference(a: Sx, b: Sx, at: number[] = []): { at: number[]; a: Sx | undefined; b: Sx | undefined } | undefined {
  if (typeof a === "string" || typeof b === "string") return a === b ? undefined : { at, a, b };
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (i >= a.length || i >= b.length) return { at: [...at, i], a: a[i], b: b[i] };
    const d = firstDifference(a[i], b[i], [...at, i]);
    if (d) return d;
  }
  return undefined;
}
