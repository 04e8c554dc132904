/**
 * SXPR readers. Two dialects, because the two sides of the wire read S-expressions differently:
 *
 * - `xend`: the rules of xend's own parser (tools/python/xen/xend/sxp.py, the same in 3.2 to 4.1):
 *   `'` and `"` quote, backslash escapes are decoded (\n \t \xNN \NNN ...), `#` starts a comment,
 *   an atom ends at white space, `#` or one of `{}()<>[];`.
 * - `libvirt`: the rules of libvirt's `string2sexpr` (src/util/sexpr.c): only `'` quotes, a backslash
 *   keeps itself and the next character (escapes are not decoded), an atom ends at white space or a
 *   parenthesis, and a missing `)` or `'` at the end is silently accepted (with `strict: false`).
 *
 * In strict mode (the default) malformed input throws a HarnessError `input.sxpr` with line and column.
 */
import { HarnessError } from "../errors.js";
import type { Sx, SxList } from "./types.js";

export type Dialect = "xend" | "libvirt";

export interface ReadOptions {
  dialect?: Dialect;
  /** Name used in error messages. */
  file?: string;
  /** libvirt dialect only: accept what libvirt's C reader accepts (unclosed lists and quotes). */
  strict?: boolean;
}

/** 1-based line and column of a character offset. */
export function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function fail(text: string, offset: number, message: string, file?: string): never {
  const { line, column } = lineCol(text, offset);
  throw new HarnessError("input.sxpr", message, { pos: { file, line, column } });
}

// Character classes of xend's sxp.py.
const XEND_SPACE = " \t\n\v\f\r";
const XEND_SEPARATOR = "{}()<>[];";
const PY_PRINTABLE_EXTRA = " \t\n\r\v\f";

function isXendSpace(c: string): boolean {
  return XEND_SPACE.includes(c);
}
function isPyPrintable(code: number): boolean {
  // Python 2 string.printable: digits, letters, punctuation, whitespace.
  return (code >= 0x20 && code < 0x7f) || PY_PRINTABLE_EXTRA.includes(String.fromCharCode(code));
}

const XEND_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  t: "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  "\\": "\\",
  "'": "'",
  '"': '"',
};

/** Read every top-level expression of `text` with xend's rules. */
function readXendAll(text: string, file?: string): Sx[] {
  const out: Sx[] = [];
  const stack: { list: SxList; start: number }[] = [];
  let i = 0;
  const n = text.length;
  const push = (v: Sx) => {
    if (stack.length) stack[stack.length - 1].list.push(v);
    else out.push(v);
  };
  while (i < n) {
    const c = text[i];
    const code = text.charCodeAt(i);
    if (isXendSpace(c)) {
      i++;
    } else if (c === "#") {
      while (i < n && text[i] !== "\n") i++;
    } else if (c === "(") {
      stack.push({ list: [], start: i });
      i++;
    } else if (c === ")") {
      if (!stack.length) fail(text, i, "syntax error: unexpected ')'", file);
      const done = stack.pop()!;
      push(done.list);
      i++;
    } else if (c === "'" || c === '"') {
      const start = i;
      i++;
      let buf = "";
      let closed = false;
      while (i < n) {
        const d = text[i];
        if (d === c) {
          closed = true;
          i++;
          break;
        }
        if (d === "\\") {
          i++;
          if (i >= n) break;
          const e = text[i];
          const simple = XEND_ESCAPES[e];
          if (simple !== undefined) {
            buf += simple;
            i++;
          } else if (e === "x") {
            i++;
            let hex = "";
            while (hex.length < 2 && i < n && /[0-9A-Fa-f]/.test(text[i])) hex += text[i++];
            // xend 3.2-4.1 crash (NameError) on "\x" followed by no hex digit; call it malformed.
            if (!hex.length) fail(text, i, "invalid \\x escape in quoted string", file);
            buf += String.fromCharCode(parseInt(hex, 16));
          } else if (e >= "0" && e <= "7") {
            let oct = "";
            while (oct.length < 3 && i < n && text[i] >= "0" && text[i] <= "7") oct += text[i++];
            const v = parseInt(oct, 8);
            if (v > 0xff) fail(text, i, `invalid octal escape: out of range ${oct}`, file);
            buf += String.fromCharCode(v);
          } else {
            // xend keeps an unknown escape's backslash and reads the character again.
            buf += "\\";
          }
          continue;
        }
        buf += d;
        i++;
      }
      if (!closed) fail(text, start, "unexpected end of input in quoted string", file);
      push(buf);
    } else if (code === 4) {
      // Ctrl-D ends the input for xend.
      break;
    } else if (isPyPrintable(code)) {
      const start = i;
      i++;
      while (i < n) {
        const d = text[i];
        if (isXendSpace(d) || d === "#" || XEND_SEPARATOR.includes(d)) break;
        i++;
      }
      push(text.slice(start, i));
    } else {
      fail(text, i, `invalid character: code ${code}`, file);
    }
  }
  if (stack.length) fail(text, stack[stack.length - 1].start, "unexpected end of input: '(' is never closed", file);
  return out;
}

const LV_TRIM = (code: number) => code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
// c_isspace: space, \t \n \v \f \r
const LV_SPACE = (code: number) => code === 0x20 || (code >= 0x09 && code <= 0x0d);

/**
 * libvirt's reader; returns the one expression at the start of `text`, and where it stopped.
 * string2sexpr's recursion written as a loop over an explicit stack of open lists (the position as
 * a local variable, no closure per read): the same trees, ends and errors as the recursive form.
 */
function readLibvirtOne(text: string, strict: boolean, file?: string): { value: Sx; end: number } {
  const n = text.length;
  let i = 0;
  // Open lists, innermost last, and where each began (for the "never closed" error).
  const open: SxList[] = [];
  const starts: number[] = [];
  // Character codes: ( 40, ) 41, ' 39, \ 92 (charCodeAt past the end is NaN, like text[i] undefined).
  for (;;) {
    // One expression: skip libvirt's trim() characters, then a list, a quoted string or an atom.
    while (i < n && LV_TRIM(text.charCodeAt(i))) i++;
    const c = text.charCodeAt(i);
    if (c === 40) {
      starts.push(i);
      open.push([]);
      i++;
    } else {
      let v: string;
      if (c === 39) {
        const start = i;
        i++;
        const s = i;
        while (i < n && text.charCodeAt(i) !== 39) {
          if (text.charCodeAt(i) === 92 && i + 1 < n) i++;
          i++;
        }
        v = text.slice(s, Math.min(i, n));
        if (text.charCodeAt(i) === 39) i++;
        else if (strict) fail(text, start, "unexpected end of input in quoted string", file);
      } else {
        const s = i;
        for (let d = c; i < n && !LV_SPACE(d) && d !== 41 && d !== 40; d = text.charCodeAt(++i));
        if (i === s && i < n && c !== 41 && open.length) {
          // A vertical tab or form feed: c_isspace ends the atom, but trim() does not skip it, so
          // libvirt's C reader appends empty atoms to the list forever. Say so instead of hanging.
          fail(text, i, `character code ${c} between list elements: libvirt's reader would loop forever here`, file);
        }
        if (strict && i === s) {
          if (i >= n) fail(text, i, "unexpected end of input: expected an expression", file);
          fail(text, i, c === 41 ? "syntax error: unexpected ')'" : `unexpected character code ${c}`, file);
        }
        v = text.slice(s, i);
      }
      if (!open.length) return { value: v, end: i };
      open[open.length - 1].push(v);
    }
    // Inside a list: after trim(), another element follows unless the text ends or a ')' closes it.
    for (;;) {
      while (i < n && LV_TRIM(text.charCodeAt(i))) i++;
      if (i < n && text.charCodeAt(i) !== 41) break;
      const list = open.pop()!;
      const start = starts.pop()!;
      if (text.charCodeAt(i) === 41) i++;
      else if (strict) fail(text, start, "unexpected end of input: '(' is never closed", file);
      if (!open.length) return { value: list, end: i };
      open[open.length - 1].push(list);
    }
  }
}

/**
 * libvirt dialect, strict: the first expression of `text` and the offset where it ends, whatever
 * follows it (readSxpr with `strict` also rejects text after it). Throws as the strict reader does.
 */
export function readSxprPrefix(text: string, opts: { file?: string } = {}): { value: Sx; end: number } {
  return readLibvirtOne(text, true, opts.file);
}

/** Read exactly one expression (white space and, for xend, comments may surround it). */
export function readSxpr(text: string, opts: ReadOptions = {}): Sx {
  const dialect = opts.dialect ?? "xend";
  if (dialect === "libvirt") {
    const strict = opts.strict ?? true;
    const { value, end } = readLibvirtOne(text, strict, opts.file);
    if (strict) {
      let j = end;
      while (j < text.length && LV_SPACE(text.charCodeAt(j))) j++;
      if (j < text.length) fail(text, j, "unexpected text after the expression", opts.file);
    }
    return value;
  }
  const all = readXendAll(text, opts.file);
  if (all.length === 0) fail(text, text.length, "no expression in input", opts.file);
  if (all.length > 1) {
    // Find where the second expression starts, for the message.
    fail(text, secondStart(text), "unexpected text after the expression", opts.file);
  }
  return all[0];
}

/** Read every top-level expression with xend's rules. */
export function readSxprAll(text: string, opts: { file?: string } = {}): Sx[] {
  return readXendAll(text, opts.file);
}

function secondStart(text: string): number {
  // Re-scan to locate the end of the first expression: cheap, only on error.
  let depth = 0;
  let i = 0;
  let seenFirst = false;
  while (i < text.length) {
    const c = text[i];
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (isXendSpace(c)) {
      i++;
      continue;
    }
    if (seenFirst && depth === 0) return i;
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "'" || c === '"') {
      i++;
      while (i < text.length && text[i] !== c) i += text[i] === "\\" ? 2 : 1;
    } else if (depth === 0) {
      while (i + 1 < text.length && !isXendSpace(text[i + 1]) && !"()#".includes(text[i + 1])) i++;
    }
    i++;
    if (depth === 0) seenFirst = true;
  }
  return text.length;
}

/**
 * libvirt's test loader rule (tests/testutils.c): every backslash-newline pair at the end of a line
 * is removed, so a multi-line .sexpr file becomes one line.
 */
export function stripContinuations(text: string): string {
  return text.replace(/\\\n/g, "");
}
