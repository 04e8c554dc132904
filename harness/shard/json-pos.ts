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
