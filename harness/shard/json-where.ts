/**
 * Positions in a JSON text, computed only when there is an error to report: the text itself is read
 * by `JSON.parse` (no reader of our own). Nothing here recurses, so a deeply nested file gets its
 * position like any other.
 *
 * - jsonErrorOffset: where JSON.parse gave up. V8 names the position in most messages ("… in JSON at
 *   position N"); where it does not ("Unexpected token 'x', … is not valid JSON"), the longest prefix
 *   that JSON.parse still reads as "not finished yet" is found by bisection (prefixes that can still be
 *   completed are closed under shortening), and the error is at the character after it.
 * - offsetOfPath: the offset of the value at a path such as ["cells", 3, "verdict"] in a text JSON.parse
 *   accepted, by scanning strings and brackets with a depth counter.
 */
export interface LineCol {
  line: number;
  column: number;
}

export function lineColAt(text: string, offset: number): LineCol {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    last = i;
  }
  return { line, column: offset - last };
}

/** Could `prefix` still become JSON (JSON.parse reads it, or stops only at its end)? */
function viable(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    if (/Unexpected end of JSON input/.test(m)) return true;
    const at = /at position (\d+)/.exec(m);
    return at !== null && Number(at[1]) >= prefix.length;
  }
}

/** Where JSON.parse gives up on `text`: an offset (text.length when the text ends too early), or -1 for valid JSON. */
export function jsonErrorOffset(text: string, error?: unknown): number {
  let message: string;
  if (error === undefined) {
    try {
      JSON.parse(text);
      return -1;
    } catch (e) {
      message = e instanceof Error ? e.message : String(e);
    }
  } else message = error instanceof Error ? error.message : String(error);
  if (/Unexpected end of JSON input/.test(message)) return text.length;
  const at = /at position (\d+)/.exec(message);
  if (at) return Math.min(Number(at[1]), text.length);
  let lo = 0; // viable
  let hi = text.length; // not viable
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (viable(text.slice(0, mid))) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The offset just after the value that starts at `i` (at its first non-space character). */
function skipValue(text: string, i: number): number {
  let depth = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      if (depth === 0) return i + 1;
    } else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      if (depth === 0) return i; // the end of the container a scalar value sits in
      depth--;
      if (depth === 0) return i + 1;
    } else if (depth === 0 && (c === "," || c === " " || c === "\n" || c === "\r" || c === "\t")) return i;
  }
  return i;
}

function ws(text: string, i: number): number {
  while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t")) i++;
  return i;
}

/** The offset of the value at `path` in valid JSON (or of the deepest existing ancestor). */
export function offsetOfPath(text: string, path: readonly (string | number)[]): number {
  let i = ws(text, 0);
  let found = i;
  for (const key of path) {
    const open = text[i];
    if (open !== "{" && open !== "[") return found;
    i = ws(text, i + 1);
    let n = 0;
    let hit = false;
    while (i < text.length && text[i] !== "}" && text[i] !== "]") {
      let match: boolean;
      if (open === "{") {
        const end = skipValue(text, i);
        match = JSON.parse(text.slice(i, end)) === key;
        i = ws(text, ws(text, end) + 1); // past the colon
      } else match = n === key;
      if (match) {
        hit = true;
        break;
      }
      i = ws(text, skipValue(text, i));
      if (text[i] === ",") i = ws(text, i + 1);
      n++;
    }
    if (!hit) return found;
    found = i;
  }
  return found;
}

/** Deepest nesting of arrays and objects a shard report may have (ours nest about 9 deep). */
export const MAX_JSON_DEPTH = 512;

/** The offset of the first `{` or `[` nested deeper than `max` levels (strings skipped; no recursion), or -1. */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (c === 123 || c === 91) {
      if (++depth > max) return i;
    } else if ((c === 125 || c === 93) && depth > 0) depth--;
  }
  return -1;
}
