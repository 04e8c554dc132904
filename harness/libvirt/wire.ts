/**
 * How a libvirt release puts a form request on the wire to xend (`xend_op_ext` in
 * src/xen/xend_internal.c).
 *
 * - Before 0.9.5: key=value pairs joined with `&`, nothing escaped. Only op=create first ran the
 *   config through a local `urlencode()` that escaped space, newline and `&` (as `%20`, `%0a`, `%26`).
 *   So in a define, `+` and `%XX` reach xend raw (xend's form decoding then turns `+` into a space and
 *   decodes `%XX`) and an `&` cuts the config short.
 * - 0.9.5 and later (commit b14e7d2a1): every key and value through `virBufferURIEncodeString`: all
 *   bytes except ASCII letters and digits as lowercase `%xx`.
 */
export type WireEncoding = "raw" | "uri";

const HEX = "0123456789abcdef";

/** Each byte as virBufferURIEncodeString writes it: ASCII letters and digits as themselves, else `%xx`. */
const BYTE_OUT: string[] = Array.from({ length: 256 }, (_, b) =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ? String.fromCharCode(b) : "%" + HEX[b >> 4] + HEX[b & 15],
);

/** Each byte's encoding as byte values (1 or 3 bytes), for writing into a buffer. */
const BYTE_CODES: number[][] = BYTE_OUT.map((t) => Array.from(t, (ch) => ch.charCodeAt(0)));

/** Reused output buffer of uriEncodeLibvirt (grows when needed). */
let encBuf = Buffer.allocUnsafe(16 * 1024);

/** virBufferURIEncodeString over the UTF-8 bytes of `s`. */
export function uriEncodeLibvirt(s: string): string {
  // The encoding is ASCII, three bytes per input byte at most: written into one buffer, one string
  // made from it at the end (no string per character).
  const bytes = Buffer.from(s, "utf8");
  if (encBuf.length < bytes.length * 3) encBuf = Buffer.allocUnsafe(bytes.length * 3);
  const out = encBuf;
  let k = 0;
  for (let i = 0; i < bytes.length; i++) {
    const code = BYTE_CODES[bytes[i]];
    out[k++] = code[0];
    if (code.length === 3) {
      out[k++] = code[1];
      out[k++] = code[2];
    }
  }
  return out.toString("latin1", 0, k);
}

/** The pre-0.9.5 `urlencode()` used only for op=create: escapes space, newline and `&`. */
export function urlencodeOld(s: string): string {
  return s.replace(/[ \n&]/g, (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0"));
}

/**
 * The form body of a POST, e.g. `encodeForm("uri", [["op","new"],["config", sxpr]])`.
 * With the raw encoding, an op=create config is pre-escaped as libvirt did.
 */
export function encodeForm(encoding: WireEncoding, fields: [string, string][]): string {
  if (encoding === "uri") return fields.map(([k, v]) => `${uriEncodeLibvirt(k)}=${uriEncodeLibvirt(v)}`).join("&");
  const isCreate = fields.some(([k, v]) => k === "op" && v === "create");
  return fields.map(([k, v]) => `${k}=${isCreate && k === "config" ? urlencodeOld(v) : v}`).join("&");
}
