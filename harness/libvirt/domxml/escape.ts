/** A character xmlEscape changes: < > & " ' or a control character other than \t \n \r. */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[<>&"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

/** libvirt's virBufferEscapeString rules: < > & ' " become entities, other control bytes but \t \n \r are dropped. */
export function xmlEscape(s: string): string {
  // Nearly every value has nothing to escape or drop: returned as it is.
  if (!NEEDS_ESCAPE.test(s)) return s;
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
