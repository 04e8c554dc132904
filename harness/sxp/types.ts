/**
 * An S-expression: an atom (a string; quoting is a matter of printing, not of meaning) or a list.
 * Plain arrays keep reading and comparing fast; positions are only computed for errors.
 */
export type Sx = string | SxList;
export interface SxList extends Array<Sx> {}

export function isList(x: Sx | undefined): x is SxList {
  return Array.isArray(x);
}

export function isAtom(x: Sx | undefined): x is string {
  return typeof x === "string";
}

/** The name of an element `(name ...)`, or undefined when the head is not an atom. */
export function headOf(x: Sx | undefined): string | undefined {
  return Array.isArray(x) && typeof x[0] === "string" ? x[0] : undefined;
}
