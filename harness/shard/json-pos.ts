/**
 * Where a value sits in a JSON text: the 1-based line and column of the value at a path such as
 * ["cells", 3, "verdict"], so that a bad field in a shard's JSON is reported at its line like every
 * other input error. Only called on text JSON.parse already accepted.
 */
export interface LineCol {
  line: number;
  column: number;
}

export function lineColAt(text: string, offset: number): LineCol {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}

/** The offset of the value at `path` (or of the deepest existing ancestor). */
export function offsetOfPath(text: string, path: readonly (string | number)[]): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const skipString = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
  };
  const readString = (): string => {
    const start = i;
    skipString();
    return JSON.parse(text.slice(start, i)) as string;
  };
  const skipValue = (): void => {
    ws();
    const c = text[i];
    if (c === '"') return skipString();
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (c === "{") {
          skipString();
          ws();
          i++; // colon
        }
        skipValue();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        i++; // close
        return;
      }
    }
    while (i < text.length && !/[\s,\]}]/.test(text[i])) i++;
  };
  ws();
  let found = i;
  for (const key of path) {
    ws();
    const c = text[i];
    if (c !== "{" && c !== "[") return found;
    i++;
    let hit = false;
    let n = 0;
    for (;;) {
      ws();
      if (text[i] === "}" || text[i] === "]" || i >= text.length) break;
      let match: boolean;
      if (c === "{") {
        const k = readString();
        ws();
        i++; // colon
        match = k === key;
      } else match = n === key;
      ws();
      if (match) {
        hit = true;
        break;
      }
      skipValue();
      ws();
      if (text[i] === ",") i++;
      n++;
    }
    if (!hit) return found;
    found = i;
  }
  return found;
}

/**
 * Where JSON.parse gave up: the offset of the first character that breaks JSON's grammar (Node 20's
 * JSON.parse messages do not always say). Returns text.length for text that ends too early, and -1
 * for valid JSON.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (at = i): never => {
    throw at;
  };
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const str = () => {
    if (text[i] !== '"') fail();
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail();
      if (text[i] === "\\") {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail(i + 1);
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail(i + 1);
      } else i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        str();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') return str();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m![0].length;
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
  } catch (at) {
    if (typeof at === "number") return at;
    throw at;
  }
  return -1;
}

/** Deepest nesting of arrays and objects a shard report may have (ours nest about 8 deep). */
export const MAX_JSON_DEPTH = 512;

/**
 * The offset of the first `[` or `{` nested deeper than `max` (outside strings), or -1. A linear scan
 * without recursion, run before anything recursive reads the text (offsetOfPath, jsonErrorOffset).
 */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (c === 91 || c === 123) {
      if (++depth > max) return i;
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  return -1;
}
