/**
 * Secrets never reach a recording, a golden, a report or a log line. Two nets, applied in this order:
 *
 * 1. **By value.** The secrets a run uses are known: the `passwd`/`vncpasswd`/`password` values of
 *    the domain XMLs it sends (registerSecrets, called by the runner for every cell). Every
 *    occurrence of such a value, and of the forms it takes on the way (XML-escaped, libvirt's URI
 *    encoding, the pre-0.9.5 raw wire as xend decodes it, Python repr one and two levels deep, JSON),
 *    is replaced by `REDACTED`, whatever surrounds it. This is what holds for a secret with any
 *    characters (quotes, `&`, `;`, parentheses, backslashes), where no syntax can tell where it ends.
 *    Values shorter than MIN_KNOWN_SECRET characters are left to the second net (replacing them
 *    everywhere would blank ordinary words).
 * 2. **By key.** The value after a secret key is replaced in every syntax it is written in: SXPR
 *    `(vncpasswd value)` (bare or quoted, also with backslash-escaped quotes inside a quoted string,
 *    and with `%20`/`+` separators of a raw-wire body), XML attributes `passwd='value'` and elements
 *    `<password>value</password>`, Python repr as xend quotes a config in its errors
 *    (`['vncpasswd', 'value']`, `{'vncpasswd': 'value'}`, nested in another repr as `\'vncpasswd\'`),
 *    URI-encoded SXPR (`%28vncpasswd%20…%29`), and form fields `vncpasswd=value`. A form-encoded body
 *    is redacted as raw text first (libvirt before 0.9.5 sends the define unescaped: an `&` or `;` in
 *    the secret would otherwise split it into fields), then field-wise (a field is decoded, redacted
 *    and re-encoded; every other field keeps its bytes).
 *
 * Replay applies the same redaction to what it is sent before comparing, so a recording with a
 * redacted password still matches the request that carried the real one.
 */
import type { ControlReply, HttpRequest, HttpResponse } from "./types.js";
import { parseFormPairs, unquotePlus } from "./form.js";

export const REDACTED = "REDACTED";

const KEYS = "vncpasswd|passwd|password";
const SECRET_KEY = new RegExp(`^(?:${KEYS})$`, "i");
const MAYBE_SECRET = new RegExp(KEYS, "i");

/** Known secrets shorter than this are redacted by key only. */
export const MIN_KNOWN_SECRET = 4;

/** Every form of every registered secret, longest first. */
let knownForms: string[] = [];
const known = new Set<string>();

const XML_QUOTE_STYLES: [string, string][] = [
  ["'", '"'],
  ["&apos;", "&quot;"],
  ["&#39;", "&#34;"],
  ["&apos;", '"'],
  ["'", "&quot;"],
];

function xmlEscape(s: string, [apos, quot]: [string, string]): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/'/g, apos).replace(/"/g, quot);
}

/** The body of Python 2's repr of a byte string (UTF-8 bytes), quoted with `q`. */
export function pyReprBody(s: string, q: "'" | '"'): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    if (c === "\\") out += "\\\\";
    else if (c === q) out += "\\" + q;
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if (b < 0x20 || b >= 0x7f) out += "\\x" + b.toString(16).padStart(2, "0");
    else out += c;
  }
  return out;
}

/** The forms a secret takes on its way through libvirt, the wire, xend and the reports. */
function formsOf(secret: string): string[] {
  const out = new Set<string>();
  const bases = new Set([secret, unquotePlus(secret)]);
  for (const b of bases) {
    out.add(b);
    for (const style of XML_QUOTE_STYLES) out.add(xmlEscape(b, style));
    const uri = uriEncode(b);
    out.add(uri);
    out.add(uri.replace(/%[0-9a-f]{2}/g, (m) => m.toUpperCase()));
    out.add(b.replace(/[ \n&]/g, (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")));
    out.add(JSON.stringify(b).slice(1, -1));
    for (const q1 of ["'", '"'] as const) {
      const once = pyReprBody(b, q1);
      out.add(once);
      for (const q2 of ["'", '"'] as const) out.add(pyReprBody(once, q2));
    }
  }
  return [...out].filter((f) => f.length >= MIN_KNOWN_SECRET && f !== REDACTED);
}

/**
 * Remember secrets to redact by value from now on (the passwords of the domain XMLs a run sends).
 * Process-wide: a secret seen once stays redacted in every later output of the process.
 */
export function registerSecrets(values: Iterable<string>): void {
  let changed = false;
  for (const v of values) {
    if (v.length < MIN_KNOWN_SECRET || known.has(v)) continue;
    known.add(v);
    changed = true;
  }
  if (!changed) return;
  const forms = new Set<string>();
  for (const v of known) for (const f of formsOf(v)) forms.add(f);
  knownForms = [...forms].sort((a, b) => b.length - a.length);
}

/** Forget every registered secret (tests). */
export function forgetSecrets(): void {
  known.clear();
  knownForms = [];
}

function xmlUnescape(s: string): string {
  return s.replace(/&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|apos|quot));/g, (m, dec?: string, hex?: string, name?: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return { amp: "&", lt: "<", gt: ">", apos: "'", quot: '"' }[name as "amp"] ?? m;
  });
}

/** The secret values a domain XML holds (`passwd`/`vncpasswd`/`password` attributes and elements), unescaped. */
export function secretsInXml(xml: string): string[] {
  if (!MAYBE_SECRET.test(xml)) return [];
  const out: string[] = [];
  for (const m of xml.matchAll(new RegExp(`\\s(?:${KEYS})\\s*=\\s*(?:'([^']*)'|"([^"]*)")`, "gi"))) out.push(xmlUnescape(m[1] ?? m[2] ?? ""));
  for (const m of xml.matchAll(new RegExp(`<(${KEYS})(?:\\s[^>]*)?>([^<]*)</\\1\\s*>`, "gi"))) out.push(xmlUnescape(m[2]));
  return out.filter((v) => v !== "");
}

function scrubKnown(text: string): string {
  for (const f of knownForms) if (text.includes(f)) text = text.split(f).join(REDACTED);
  return text;
}

/** Is this key's value a secret? */
export function isSecretKey(name: string): boolean {
  return SECRET_KEY.test(name);
}

/**
 * Where a quoted value that starts at `i` ends (the index after its closing quote), or the text's
 * length when it never closes. The value is `bs` backslashes and a quote `q`, as written by a repr
 * nested `log2(bs+1)` levels deep: its closing quote is the one whose run of backslashes r has
 * r mod 2(bs+1) = bs (at the top level: an even run, i.e. not escaped). -1 when no quote starts at i.
 */
function quotedEnd(text: string, i: number): number {
  let j = i;
  while (text[j] === "\\") j++;
  const bs = j - i;
  const q = text[j];
  if (q !== "'" && q !== '"') return -1;
  const mod = 2 * (bs + 1);
  for (let k = j + 1; k < text.length; k++) {
    if (text[k] !== q) continue;
    let r = 0;
    while (k - 1 - r > j && text[k - 1 - r] === "\\") r++;
    if (r % mod === bs) return k + 1;
  }
  return text.length;
}

/** `…key<sep>` then a value: quoted (with escapes, any nesting) or bare up to white space or a parenthesis. */
function redactAfter(text: string, keyRe: RegExp, bare: RegExp, quoted: (prefix: string, q: string) => string, bareOut: string): string {
  let out = "";
  let last = 0;
  keyRe.lastIndex = 0;
  for (let m = keyRe.exec(text); m; m = keyRe.exec(text)) {
    const v = m.index + m[0].length;
    let i = v;
    if (/[uUbB]/.test(text[i] ?? "") && /[\\'"]/.test(text[i + 1] ?? "")) i++;
    const end = quotedEnd(text, i);
    let stop: number;
    let repl: string;
    if (end >= 0) {
      let j = i;
      while (text[j] === "\\") j++;
      const prefix = text.slice(i, j);
      if (end === j + 2 + prefix.length && text.slice(j + 1, end) === prefix + text[j]) {
        keyRe.lastIndex = end; // an empty string: nothing to hide
        continue;
      }
      stop = end;
      repl = text.slice(v, i) + quoted(prefix, text[j]);
    } else {
      bare.lastIndex = v;
      const b = bare.exec(text);
      if (!b || b.index !== v || b[0] === "") continue;
      stop = v + b[0].length;
      repl = bareOut;
    }
    out += text.slice(last, v) + repl;
    last = stop;
    keyRe.lastIndex = Math.max(stop, keyRe.lastIndex);
  }
  return last === 0 ? text : out + text.slice(last);
}

const SEP = "(?:\\s|%20|%0[aA]|%09|\\+)";
/** SXPR: `(key value` (also `(key%20value` and `(key+value` in a raw-wire body). */
const SXPR_KEY = new RegExp(`\\((?:\\s|%20|%0[aA]|%09)*(?:${KEYS})${SEP}+`, "gi");
/** XML attribute `key='value'` / `key="value"` (also with the quotes backslash-escaped inside a repr). */
const XML_ATTR_KEY = new RegExp(`(?<=[\\s<])(?:${KEYS})\\s*=\\s*(?=\\\\*['"])`, "gi");
/** XML element `<key ...>value</key>`. */
const XML_ELEM_RE = new RegExp(`<(${KEYS})(\\s[^>]*)?>[^<]*</\\1\\s*>`, "gi");
/** Python repr: `'key', value` (list or tuple) or `'key': value` (dict), the key's quotes escaped as deep as they are nested. */
const PY_KEY = new RegExp(`(\\\\*)(['"])(?:${KEYS})\\1\\2\\s*[,:]\\s*(?=[uUbB]?\\\\*['"])`, "gi");
/** URI-encoded SXPR: `%28key%20value` up to the next `%29`, `&` or `;`. */
const URI_SXPR_RE = new RegExp(`(%28(?:${KEYS})(?:%20|%0[aA]|%09|\\+)+)(?!%29)((?:(?!%29)[^&;\\s])+)`, "gi");
/** A form field `key=value` in running text (not a quoted XML attribute). */
const FORM_FIELD_RE = new RegExp(`(^|[&;?\\s])(${KEYS})=(?![\\\\'"]|${REDACTED}(?:[&;\\s]|$))([^&;\\s]+)`, "gi");

/**
 * SXPR: everything inside `(key …)` after the key, up to the element's closing parenthesis (quoted
 * strings skipped whole, nested lists counted). libvirt writes a password unescaped between single
 * quotes, so one with a quote in it reaches xend as several atoms: all of them are the secret. An
 * element that never closes is redacted to the end of the text. `(key '')` is left as it is.
 */
function redactSxprElements(text: string): string {
  let out = "";
  let last = 0;
  SXPR_KEY.lastIndex = 0;
  for (let m = SXPR_KEY.exec(text); m; m = SXPR_KEY.exec(text)) {
    const v = m.index + m[0].length;
    let k = v;
    let depth = 0;
    while (k < text.length) {
      const c = text[k];
      if (c === "'" || c === '"' || (c === "\\" && /^\\+['"]/.test(text.slice(k, k + 8)))) {
        const end = quotedEnd(text, k);
        k = end < 0 ? k + 1 : end;
      } else if (c === "(") {
        depth++;
        k++;
      } else if (c === ")") {
        if (depth === 0) break;
        depth--;
        k++;
      } else k++;
    }
    const value = text.slice(v, k).trim();
    if (value === "" || value === "''" || value === '""') continue;
    out += text.slice(last, v) + REDACTED;
    last = k;
    SXPR_KEY.lastIndex = Math.max(k, SXPR_KEY.lastIndex);
  }
  return last === 0 ? text : out + text.slice(last);
}

function redactKeys(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  let t = redactSxprElements(text);
  t = redactAfter(t, XML_ATTR_KEY, /(?!)/y, (prefix, q) => `${prefix}${q}${REDACTED}${prefix}${q}`, REDACTED);
  t = t.replace(XML_ELEM_RE, (_m, key: string, attrs: string | undefined) => `<${key}${attrs ?? ""}>${REDACTED}</${key}>`);
  t = redactAfter(t, PY_KEY, /(?!)/y, (prefix, q) => `${prefix}${q}${REDACTED}${prefix}${q}`, REDACTED);
  t = t.replace(URI_SXPR_RE, (_m, head: string) => `${head}${REDACTED}`);
  t = t.replace(FORM_FIELD_RE, (_m, lead: string, key: string) => `${lead}${key}=${REDACTED}`);
  return t;
}

/** Redact secrets in SXPR, XML, Python repr or any other text (anything that is not form-encoded). */
export function redact(text: string): string {
  if (knownForms.length) text = scrubKnown(text);
  return redactKeys(text);
}

/** libvirt's URI encoding (every byte but ASCII letters and digits as %xx). */
function uriEncode(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) out += String.fromCharCode(b);
    else out += "%" + b.toString(16).padStart(2, "0");
  }
  return out;
}

/**
 * Redact a form-encoded body: a field named like a secret gets the value REDACTED; a field whose
 * decoded value holds a secret is redacted and re-encoded; all other bytes stay as they were.
 */
export function redactForm(body0: string): string {
  // Values first, then the raw text (a raw-wire define keeps its SXPR readable: its secret may hold
  // the & or ; that splits fields), then field by field.
  const body = redactKeys(knownForms.length ? scrubKnown(body0) : body0);
  if (!MAYBE_SECRET.test(body) && !body.includes("%")) return body;
  const pairs = parseFormPairs(body, "utf8");
  if (!pairs.some((p) => MAYBE_SECRET.test(p.name) || MAYBE_SECRET.test(p.value))) return body;
  // Rebuild with the original separators.
  const seps = body.match(/[&;]/g) ?? [];
  const pieces = body.split(/[&;]/);
  let k = 0;
  const out: string[] = [];
  for (let i = 0; i < pieces.length; i++) {
    let piece = pieces[i];
    if (piece !== "") {
      const p = pairs[k++];
      const eq = piece.indexOf("=");
      const rawName = eq < 0 ? piece : piece.slice(0, eq);
      if (isSecretKey(p.name)) piece = `${rawName}=${REDACTED}`;
      else if (MAYBE_SECRET.test(p.value)) {
        const red = redact(p.value);
        if (red !== p.value) piece = `${rawName}=${uriEncode(red)}`;
      }
    }
    out.push(piece);
    if (i < seps.length) out.push(seps[i]);
  }
  return out.join("");
}

/** A body as it should be stored: form bodies field-wise, anything else as text. */
export function redactBody(body: string | undefined, headers: [string, string][]): string | undefined {
  if (body === undefined || body === "") return body;
  const ct = headers.find(([k]) => k.toLowerCase() === "content-type")?.[1] ?? "";
  return ct.toLowerCase().startsWith("application/x-www-form-urlencoded") ? redactForm(body) : redact(body);
}

/** The request with secrets redacted; Content-Length follows a changed body. */
export function redactRequest(req: HttpRequest): HttpRequest {
  const body = redactBody(req.body, req.headers);
  if (body === req.body) return req;
  const headers = req.headers.map(([k, v]): [string, string] =>
    k.toLowerCase() === "content-length" ? [k, String(Buffer.byteLength(body ?? "", "utf8"))] : [k, v],
  );
  return { ...req, headers, body };
}

/** The response with secrets redacted (xend's replies are SXPR or plain text). */
export function redactResponse(res: HttpResponse): HttpResponse {
  const body = redact(res.body);
  if (body === res.body) return res;
  const headers = res.headers.map(([k, v]): [string, string] =>
    k.toLowerCase() === "content-length" ? [k, String(Buffer.byteLength(body, "utf8"))] : [k, v],
  );
  return { ...res, headers, body };
}

export function redactControlReply(reply: ControlReply): ControlReply {
  if (reply.detail === undefined) return reply;
  const detail = redact(reply.detail);
  return detail === reply.detail ? reply : { ...reply, detail };
}

/** A form-encoded body as it appears in reports (`op=new&config=%28vm...`): no white space, key=value. */
const FORM_LIKE = /^[A-Za-z_][\w.-]*=[^\s]*$/;

/**
 * Every string inside a value (report models, observations, log lines) with secrets redacted:
 * form-encoded strings field-wise, everything else as SXPR/XML text. Returns a copy; the input is
 * not changed.
 */
export function redactDeep<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return redact(FORM_LIKE.test(v) ? redactForm(v) : v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = isSecretKey(k) && typeof x === "string" && x !== "" ? REDACTED : walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}
