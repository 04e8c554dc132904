/**
 * Secrets never reach a recording: the values of `vncpasswd`, `passwd` and `password` keys are
 * replaced by `REDACTED` wherever they appear: SXPR elements `(vncpasswd secret)` (bare or quoted),
 * XML attributes `passwd='secret'` and elements `<password>secret</password>`, form fields named so,
 * and SXPR/XML inside form-encoded fields (such a field is decoded, redacted and re-encoded; every
 * other field keeps its bytes).
 *
 * Replay applies the same redaction to what it is sent before comparing, so a recording with a
 * redacted password still matches the request that carried the real one.
 */
import type { ControlReply, HttpRequest, HttpResponse } from "./types.js";
import { parseFormPairs } from "./form.js";

export const REDACTED = "REDACTED";

const KEYS = "vncpasswd|passwd|password";
const SECRET_KEY = new RegExp(`^(?:${KEYS})$`, "i");
const MAYBE_SECRET = new RegExp(KEYS, "i");

/** SXPR: `(key value` where value is bare, '...' or "..." (backslash escapes allowed inside). */
const SXPR_RE = new RegExp(`\\((\\s*)(${KEYS})(\\s+)('(?:[^'\\\\]|\\\\[^])*'|"(?:[^"\\\\]|\\\\[^])*"|[^\\s()'"]+)`, "gi");
/** XML attribute `key='value'` / `key="value"`. */
const XML_ATTR_RE = new RegExp(`(\\s)(${KEYS})(\\s*=\\s*)('[^']*'|"[^"]*")`, "gi");
/** XML element `<key ...>value</key>`. */
const XML_ELEM_RE = new RegExp(`<(${KEYS})(\\s[^>]*)?>[^<]*</\\1\\s*>`, "gi");

/** Is this key's value a secret? */
export function isSecretKey(name: string): boolean {
  return SECRET_KEY.test(name);
}

/** Redact secrets in SXPR or XML text (anything that is not form-encoded). */
export function redact(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  return text
    .replace(SXPR_RE, (m, sp1: string, key: string, sp2: string, value: string) =>
      value === "''" || value === '""' ? m : `(${sp1}${key}${sp2}${REDACTED}`,
    )
    .replace(XML_ATTR_RE, (m, sp: string, key: string, eq: string, quoted: string) =>
      quoted.length === 2 ? m : `${sp}${key}${eq}${quoted[0]}${REDACTED}${quoted[0]}`,
    )
    .replace(XML_ELEM_RE, (m, key: string, attrs: string | undefined) => `<${key}${attrs ?? ""}>${REDACTED}</${key}>`);
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
export function redactForm(body: string): string {
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
