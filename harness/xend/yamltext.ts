/**
 * A small YAML writer with a fixed, reviewable style, and a fast reader for exactly that style.
 *
 * Why: recordings are read on every replay and js-yaml takes ~0.35 ms for a typical recording, which
 * alone would cap replay below the benchmark target. The writer only emits a strict subset of YAML
 * (block mappings and sequences indented by two, plain scalars only where they cannot be mistaken
 * for anything else, literal blocks `|` / `|-` for multi-line text, JSON-style double-quoted strings
 * for everything else), and `readFast` reads that subset ~20x faster. Anything outside the subset
 * (a hand edit, another writer) makes `readFast` return undefined and the caller falls back to
 * js-yaml, which also gives line/column for syntax errors. The output is plain YAML: any YAML reader
 * gives the same values (the tests check that against js-yaml).
 */

type Value = null | boolean | number | string | Value[] | { [k: string]: Value };

const PLAIN_RE = /^[A-Za-z_/][A-Za-z0-9_./+-]*$/;
const RESERVED_RE = /^(?:true|false|null|yes|no|on|off|y|n)$/i;
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER_RE = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/;
/** Characters YAML does not allow raw (or that some readers treat as line breaks). */
const NON_PRINTABLE_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/;
const ESCAPE_EXTRA_RE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

/** A JSON string literal, which is also a YAML double-quoted scalar. */
function quoted(s: string): string {
  return JSON.stringify(s).replace(ESCAPE_EXTRA_RE, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

function hasLoneSurrogate(s: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/** Can `s` be written as a literal block (`|` or `|-`) safely and readably? */
function literalOk(s: string): boolean {
  if (!s.includes("\n")) return false;
  if (s.startsWith("\n") || s.startsWith(" ") || s.endsWith("\n\n")) return false;
  if (s.includes("\r") || s.includes("\t") || NON_PRINTABLE_RE.test(s) || hasLoneSurrogate(s)) return false;
  const body = s.endsWith("\n") ? s.slice(0, -1) : s;
  for (const line of body.split("\n")) if (line.endsWith(" ")) return false;
  return true;
}

function scalar(v: null | boolean | number | string): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`yamltext: cannot write ${v}`);
    return String(v);
  }
  if (PLAIN_RE.test(v) && !RESERVED_RE.test(v)) return v;
  return quoted(v);
}

function keyText(k: string): string {
  return KEY_RE.test(k) && !RESERVED_RE.test(k) ? k : quoted(k);
}

function isContainer(v: Value): v is Value[] | { [k: string]: Value } {
  return v !== null && typeof v === "object";
}

function emptyContainer(v: Value): string | undefined {
  if (Array.isArray(v)) return v.length === 0 ? "[]" : undefined;
  if (isContainer(v)) return Object.keys(v).length === 0 ? "{}" : undefined;
  return undefined;
}

/** Lines for `value` placed after `prefix` (e.g. `key:` or `-`), at `indent` for nested lines. */
function emitAfter(out: string[], prefix: string, value: Value, indent: number): void {
  const pad = " ".repeat(indent);
  const empty = emptyContainer(value);
  if (empty !== undefined) {
    out.push(`${prefix} ${empty}`);
    return;
  }
  if (typeof value === "string" && literalOk(value)) {
    const chomp = value.endsWith("\n") ? "|" : "|-";
    out.push(`${prefix} ${chomp}`);
    const body = value.endsWith("\n") ? value.slice(0, -1) : value;
    for (const line of body.split("\n")) out.push(line === "" ? "" : pad + line);
    return;
  }
  if (!isContainer(value)) {
    out.push(`${prefix} ${scalar(value)}`);
    return;
  }
  out.push(prefix);
  emitNode(out, value, indent);
}

function emitNode(out: string[], value: Value, indent: number): void {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isContainer(item) && !Array.isArray(item) && Object.keys(item).length > 0) {
        // `- key: value` with the other keys two columns further in.
        const sub: string[] = [];
        emitNode(sub, item, indent + 2);
        sub[0] = `${pad}- ${sub[0].slice(indent + 2)}`;
        out.push(...sub);
      } else {
        emitAfter(out, `${pad}-`, item, indent + 2);
      }
    }
    return;
  }
  if (isContainer(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      emitAfter(out, `${pad}${keyText(k)}:`, v, indent + 2);
    }
    return;
  }
  out.push(pad + scalar(value));
}

/** The YAML text of a document made of mappings, sequences, strings, numbers, booleans and null. */
export function writeYaml(doc: Value): string {
  const out: string[] = [];
  emitNode(out, doc, 0);
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Fast reader for the subset written above.

class NotFast extends Error {}

function fail(): never {
  throw new NotFast();
}

function indentOf(line: string): number {
  let i = 0;
  while (i < line.length && line.charCodeAt(i) === 32) i++;
  return i;
}

class Reader {
  private i = 0;
  constructor(private readonly lines: string[]) {}

  /** Index of the next line that is neither blank nor a comment, or -1. */
  private peek(): number {
    while (this.i < this.lines.length) {
      const l = this.lines[this.i];
      const ind = indentOf(l);
      if (ind === l.length || l.charCodeAt(ind) === 35 /* # */) {
        if (ind !== l.length && ind !== 0) fail(); // indented comments: leave them to js-yaml
        this.i++;
        continue;
      }
      return this.i;
    }
    return -1;
  }

  document(): Value {
    const at = this.peek();
    if (at < 0) return null;
    if (indentOf(this.lines[at]) !== 0) fail();
    const v = this.node(0);
    if (this.peek() >= 0) fail();
    return v;
  }

  private node(indent: number): Value {
    // Deeper than js-yaml's own limit (100 levels): left to js-yaml, which says where (line:col)
    // instead of this reader overflowing the stack.
    if (indent > 2 * 100) fail();
    const at = this.peek();
    const line = this.lines[at];
    if (line.startsWith("- ", indent) || line.length === indent + 1 && line.endsWith("-")) return this.sequence(indent);
    return this.mapping(indent);
  }

  private mapping(indent: number): Value {
    const out: { [k: string]: Value } = {};
    for (;;) {
      const at = this.peek();
      if (at < 0) break;
      const line = this.lines[at];
      const ind = indentOf(line);
      if (ind < indent) break;
      if (ind > indent) fail();
      if (line.startsWith("-", ind)) break;
      let key: string;
      let rest: string;
      if (line.charCodeAt(ind) === 34 /* " */) {
        const end = closingQuote(line, ind);
        key = parseJsonString(line.slice(ind, end + 1));
        rest = line.slice(end + 1);
        if (!rest.startsWith(":")) fail();
        rest = rest.slice(1);
      } else {
        const colon = line.indexOf(":", ind);
        if (colon < 0) fail();
        key = line.slice(ind, colon);
        if (!KEY_RE.test(key) || RESERVED_RE.test(key)) fail();
        rest = line.slice(colon + 1);
      }
      // `__proto__` would set the object's prototype where js-yaml makes an ordinary key: leave it to js-yaml.
      if (key === "__proto__" || Object.prototype.hasOwnProperty.call(out, key)) fail();
      this.i = at + 1;
      out[key] = this.valueAfter(rest, indent);
    }
    return out;
  }

  private sequence(indent: number): Value {
    const out: Value[] = [];
    for (;;) {
      const at = this.peek();
      if (at < 0) break;
      const line = this.lines[at];
      const ind = indentOf(line);
      if (ind < indent) break;
      if (ind > indent) fail();
      if (!line.startsWith("-", ind)) break;
      const rest = line.slice(ind + 1);
      if (rest !== "" && !rest.startsWith(" ")) fail();
      const item = rest.slice(1);
      if (item !== "" && startsMappingEntry(item)) {
        // `- key: ...`: the item is a mapping whose keys sit at indent + 2.
        this.lines[at] = " ".repeat(indent + 2) + item;
        out.push(this.mapping(indent + 2));
      } else {
        this.i = at + 1;
        out.push(this.valueAfter(rest, indent));
      }
    }
    return out;
  }

  /** The value after `key:` or `-` (the text after the indicator, starting with a space or empty). */
  private valueAfter(rest: string, indent: number): Value {
    if (rest === "") {
      const at = this.peek();
      if (at < 0) return null;
      const ind = indentOf(this.lines[at]);
      if (ind <= indent) return null;
      if (ind !== indent + 2) fail();
      return this.node(ind);
    }
    if (!rest.startsWith(" ")) fail();
    const text = rest.slice(1);
    if (text === "|" || text === "|-") return this.literal(indent, text === "|");
    return plainOrQuoted(text);
  }

  private literal(indent: number, clip: boolean): string {
    const content: string[] = [];
    let blockIndent = -1;
    while (this.i < this.lines.length) {
      const l = this.lines[this.i];
      if (l === "") {
        content.push("");
        this.i++;
        continue;
      }
      const ind = indentOf(l);
      if (ind === l.length) fail(); // whitespace-only line: leave it to js-yaml
      if (blockIndent < 0) {
        if (ind <= indent) break;
        blockIndent = ind;
        if (blockIndent !== indent + 2) fail();
      } else if (ind < blockIndent) break;
      content.push(l.slice(blockIndent));
      this.i++;
    }
    // Trailing empty lines belong to the chomping, not the content.
    let n = content.length;
    while (n > 0 && content[n - 1] === "") n--;
    if (n === 0) fail();
    if (n < content.length) {
      // Rewind: the blank lines are separators before the next entry.
      this.i -= content.length - n;
    }
    const text = content.slice(0, n).join("\n");
    return clip ? text + "\n" : text;
  }
}

function closingQuote(line: string, start: number): number {
  for (let j = start + 1; j < line.length; j++) {
    const c = line.charCodeAt(j);
    if (c === 92 /* \ */) j++;
    else if (c === 34) return j;
  }
  return fail();
}

function isJsonString(s: string): boolean {
  try {
    return typeof JSON.parse(s) === "string";
  } catch {
    return false;
  }
}

function parseJsonString(s: string): string {
  try {
    const v = JSON.parse(s);
    if (typeof v !== "string") fail();
    return v;
  } catch {
    return fail();
  }
}

function startsMappingEntry(item: string): boolean {
  if (item.charCodeAt(0) === 34) {
    // A whole-line JSON string is a scalar item (the common case: no scan of long strings).
    if (item.charCodeAt(item.length - 1) === 34 && isJsonString(item)) return false;
    const end = closingQuote(item, 0);
    return item.charCodeAt(end + 1) === 58 /* : */;
  }
  const colon = item.indexOf(":");
  if (colon <= 0) return false;
  return KEY_RE.test(item.slice(0, colon)) && (colon === item.length - 1 || item.charCodeAt(colon + 1) === 32);
}

function plainOrQuoted(text: string): Value {
  const c = text.charCodeAt(0);
  if (c === 34 /* " */) {
    // JSON.parse accepts exactly one string literal spanning the text, or throws.
    if (text.charCodeAt(text.length - 1) !== 34) fail();
    return parseJsonString(text);
  }
  if (text === "[]") return [];
  if (text === "{}") return {};
  if (text === "null") return null;
  if (text === "true") return true;
  if (text === "false") return false;
  if (NUMBER_RE.test(text)) return Number(text);
  if (PLAIN_RE.test(text) && !RESERVED_RE.test(text)) return text;
  return fail();
}

/** Read text written by `writeYaml` (or any YAML in the same subset); undefined when outside it. */
export function readFast(text: string): unknown | undefined {
  try {
    return new Reader(text.split("\n")).document();
  } catch (e) {
    if (e instanceof NotFast) return undefined;
    throw e;
  }
}
