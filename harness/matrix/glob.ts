/**
 * Cell-id globs. A cell id is `<xend>/<libvirt>/<scenario>`, e.g. `4.1.2/0.9.11/hvm-utc`.
 * `*` matches any run of characters except `/`, `**` any run including `/`, `?` one character
 * except `/`, `{a,b}` one of the alternatives; everything else (dots, `+`) is literal.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  let i = 0;
  let depth = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        re += ".*";
        i += 2;
        continue;
      }
      re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "{") {
      re += "(?:";
      depth++;
    } else if (c === "}" && depth > 0) {
      re += ")";
      depth--;
    } else if (c === "," && depth > 0) re += "|";
    else re += c.replace(/[.+^$()|[\]\\]/g, "\\$&");
    i++;
  }
  if (depth > 0) throw new Error(`unclosed '{' in glob '${pattern}'`);
  return new RegExp(`^${re}$`);
}

/** Compiled globs (the RegExps have no g/y flag, so `test` keeps no state between calls). */
const compiled = new Map<string, RegExp>();

export function globMatch(pattern: string, id: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    re = globToRegExp(pattern);
    if (compiled.size >= 1024) compiled.clear();
    compiled.set(pattern, re);
  }
  return re.test(id);
}
