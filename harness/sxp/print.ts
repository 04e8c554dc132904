/**
 * SXPR printers.
 *
 * - `xend`: xend 4.1.2's `sxp.show`: lists as `(a b c)`, atoms bare when `atomp` allows it, otherwise
 *   Python's `repr()` of the string (so `''` for the empty string).
 * - `xend-3`: xend 3.2/3.4's `sxp.show`: the same, but the empty string prints as nothing
 *   (their `atomp('')` is true).
 * - `libvirt`: libvirt's `sexpr2string`: atoms with a space or a parenthesis in single quotes, verbatim.
 */
import type { Sx } from "./types.js";

export type PrintStyle = "xend" | "xend-3" | "libvirt";

export interface PrintOptions {
  style?: PrintStyle;
  /** Indent nested lists on new lines (for people; not a wire format). */
  pretty?: boolean;
}

const ALNUM = /^[A-Za-z0-9]+$/;
const ATOM_OK = /^[A-Za-z0-9.\-_:/~]*$/;

/** xend's `atomp`: may this string be printed bare? */
export function xendAtomp(s: string, style: "xend" | "xend-3" = "xend"): boolean {
  if (s === "") return style === "xend-3";
  if (ALNUM.test(s) || s === "@") return true;
  return ATOM_OK.test(s);
}

/** Python 2's repr() of a byte string; characters above 0xff are kept as they are. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const code = s.charCodeAt(i);
    if (c === quote || c === "\\") out += "\\" + c;
    else if (c === "\t") out += "\\t";
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (code < 0x20 || (code >= 0x7f && code <= 0xff)) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += c;
  }
  return out + quote;
}

function atomText(s: string, style: PrintStyle): string {
  if (style === "libvirt") {
    return s.includes(" ") || s.includes("(") || s.includes(")") ? `'${s}'` : s;
  }
  if (xendAtomp(s, style)) return s;
  return pyRepr(s);
}

export function printSxpr(x: Sx, opts: PrintOptions = {}): string {
  const style = opts.style ?? "xend";
  if (opts.pretty) return pretty(x, style, 0);
  const parts: string[] = [];
  const walk = (v: Sx) => {
    if (typeof v === "string") {
      parts.push(atomText(v, style));
      return;
    }
    parts.push("(");
    for (let i = 0; i < v.length; i++) {
      if (i) parts.push(" ");
      walk(v[i]);
    }
    parts.push(")");
  };
  walk(x);
  return parts.join("");
}

function pretty(x: Sx, style: PrintStyle, depth: number): string {
  if (typeof x === "string") return atomText(x, style);
  const flat = printSxpr(x, { style });
  if (flat.length + depth * 4 <= 100 || x.length <= 1) return flat;
  const pad = "    ".repeat(depth + 1);
  const head = typeof x[0] === "string" ? atomText(x[0], style) : pretty(x[0], style, depth + 1);
  const rest = x.slice(1).map((c) => "\n" + pad + pretty(c, style, depth + 1));
  return "(" + head + rest.join("") + ")";
}
