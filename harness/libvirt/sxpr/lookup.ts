/**
 * Path lookups over an SXPR tree with the semantics of libvirt's sexpr helpers (src/util/sexpr.c and
 * the sexpr_int/sexpr_u64 helpers of the xend driver), written from their documented behaviour:
 *
 * - a path `a/b/c` matches when the node itself is `(a ...)`, then for each further component the
 *   FIRST child list whose head atom equals the component is taken;
 * - `lookup` gives the tail after the key (`(key v1 v2)` → `[v1, v2]`), or undefined when the key is
 *   missing or has no value at all;
 * - `has` is true when the key exists, even without a value;
 * - `node` gives the first value when it is an atom;
 * - `int`/`u64` read it like C's strtol/strtoll with base 0 (0 when absent).
 */
import type { Sx, SxList } from "../../sxp/index.js";

/** Does `path` hold `head` as its component from `start` to `end`? (compared in place: no substring) */
function isComponent(head: string, path: string, start: number, end: number): boolean {
  return head.length === end - start && path.startsWith(head, start);
}

function lookupKey(sx: Sx | undefined, path: string): SxList | undefined {
  if (!Array.isArray(sx) || sx.length === 0 || typeof sx[0] !== "string") return undefined;
  let end = path.indexOf("/");
  if (end < 0) end = path.length;
  if (!isComponent(sx[0], path, 0, end)) return undefined;
  let cur: SxList = sx;
  while (end < path.length) {
    const start = end + 1;
    end = path.indexOf("/", start);
    if (end < 0) end = path.length;
    let found: SxList | undefined;
    for (let i = 1; i < cur.length; i++) {
      const child = cur[i];
      if (Array.isArray(child) && child.length > 0 && typeof child[0] === "string" && isComponent(child[0], path, start, end)) {
        found = child;
        break;
      }
    }
    if (!found) return undefined;
    cur = found;
  }
  return cur;
}

/** The values after the key, or undefined when the key is absent or bare. */
export function lookup(sx: Sx | undefined, path: string): Sx[] | undefined {
  const k = lookupKey(sx, path);
  if (!k || k.length < 2) return undefined;
  return k.slice(1);
}

/** `lookup(sx, path) !== undefined` without building the list: the key is there with a value. */
export function present(sx: Sx | undefined, path: string): boolean {
  const k = lookupKey(sx, path);
  return k !== undefined && k.length >= 2;
}

export function has(sx: Sx | undefined, path: string): boolean {
  return lookupKey(sx, path) !== undefined;
}

export function node(sx: Sx | undefined, path: string): string | undefined {
  const k = lookupKey(sx, path);
  if (!k || k.length < 2) return undefined;
  const v = k[1];
  return typeof v === "string" ? v : undefined;
}

/** A plain decimal (no sign, space or leading 0) of at most 9 digits: strtol gives its value as is. */
const SMALL_DECIMAL = /^[1-9][0-9]{0,8}$/;

const isCSpace = (c: string) => c === " " || (c >= "\t" && c <= "\r");

/**
 * C strtol/strtoll with base 0: leading white space, optional sign, 0x/0X hex, leading 0 octal,
 * stops at the first invalid character; `end` is the index where parsing stopped (0 when no digits).
 * Values are returned as bigint so that 64-bit wrap-around can be applied by the caller.
 */
export function cStrtol(s: string, base = 0): { value: bigint; end: number; overflow: boolean } {
  let i = 0;
  while (i < s.length && isCSpace(s[i])) i++;
  let neg = false;
  if (s[i] === "+" || s[i] === "-") {
    neg = s[i] === "-";
    i++;
  }
  let b = base;
  if ((b === 0 || b === 16) && s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X") && /[0-9a-fA-F]/.test(s[i + 2] ?? "")) {
    i += 2;
    b = 16;
  } else if (b === 0) {
    b = s[i] === "0" ? 8 : 10;
  }
  const start = i;
  let v = 0n;
  const B = BigInt(b);
  while (i < s.length) {
    const d = parseInt(s[i], 36);
    if (Number.isNaN(d) || d >= b) break;
    v = v * B + BigInt(d);
    i++;
  }
  if (i === start) return { value: 0n, end: 0, overflow: false };
  return { value: neg ? -v : v, end: i, overflow: false };
}

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

/** strtol into a 64-bit long (saturating like glibc); the caller narrows to int where C does. */
export function strtoLong(s: string): bigint {
  const { value } = cStrtol(s);
  if (value > I64_MAX) return I64_MAX;
  if (value < I64_MIN) return I64_MIN;
  return value;
}

/** C's narrowing of a long to int (two's complement wrap). */
export function toInt32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** sexpr_int: `(int) strtol(value, NULL, 0)`, 0 when absent. */
export function int(sx: Sx | undefined, path: string): number {
  const v = node(sx, path);
  if (v === undefined || v === "0") return 0;
  if (SMALL_DECIMAL.test(v)) return Number(v);
  return toInt32(strtoLong(v));
}

/** sexpr_u64: `(uint64_t) strtoll(value, NULL, 0)`, 0 when absent. */
export function u64(sx: Sx | undefined, path: string): bigint {
  const v = node(sx, path);
  if (v === undefined || v === "0") return 0n;
  if (SMALL_DECIMAL.test(v)) return BigInt(v);
  return BigInt.asUintN(64, strtoLong(v));
}

/**
 * virStrToLong_i: the whole string must be a number (base 0) that fits in an int; otherwise failure.
 */
export function strToLongI(s: string): number | undefined {
  const { value, end } = cStrtol(s);
  if (end === 0 || end !== s.length) return undefined;
  if (value > I64_MAX || value < I64_MIN) return undefined;
  if (value > 2147483647n || value < -2147483648n) return undefined;
  return Number(value);
}

/** The elements after the head of a list (children), or [] for an atom. */
export function tail(sx: Sx | undefined): Sx[] {
  return Array.isArray(sx) ? sx.slice(1) : [];
}
