/** libvirt's virBufferEscapeString rules: < > & ' " become entities, other control bytes but \t \n \r are dropped. */
export function xmlEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    switch (ch) {
      case "<":
        out += "&lt;";
        break;
      case ">":
        out += "&gt;";
        break;
      case "&":
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case "'":
        out += "&apos;";
        break;
      default: {
        const c = ch.codePointAt(0)!;
        if (c >= 0x20 || ch === "\n" || ch === "\t" || ch === "\r") out += ch;
      }
    }
  }
  return out;
}

/** printf's %s of a NULL pointer in glibc. */
export function cStr(s: string | undefined): string {
  return s === undefined ? "(null)" : s;
}
