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

/**
 * How libvirt's xend client writes every request (`xend_get` / `xend_post` in
 * src/xen/xend_internal.c, the same from 0.8.x to 4.2.0): request line `METHOD path HTTP/1.1`, then
 * these header lines in this order (Host is hard-coded, whatever the port), a POST adding
 * `Content-Length` with the body's byte count. No User-Agent, no Accept.
 */
export const LIBVIRT_REQUEST_HEADERS: readonly (readonly [string, string])[] = [
  ["Host", "localhost:8000"],
  ["Accept-Encoding", "identity"],
  ["Content-Type", "application/x-www-form-urlencoded"],
];

/** One xend client call a cell makes (the scenario's steps, plus opening and cleaning up). */
export type WireOp =
  | { kind: "open" }
  | { kind: "define"; name: string; sxpr: string; refused?: boolean }
  | { kind: "start"; name: string; refused?: boolean }
  | { kind: "read"; name: string }
  | { kind: "destroy"; name: string }
  | { kind: "delete"; name: string };

/** One request of a release's xend client: method, path, form body (already wire-encoded) for a POST. */
export interface WireRequest {
  method: "GET" | "POST";
  path: string;
  body?: string;
  /**
   * A GET the client makes only to refresh its own domain object (the lookup that ends define before
   * 1.0.6, and start); xend's state does not change, and our wire (harness/run/cell.ts) leaves it out.
   */
  lookup?: true;
}

function cmpVersion(a: string, b: string): number {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/**
 * The requests a release's xend client sends for one call, in order (checked byte for byte against
 * recordings of the real clients of 0.8.7, 0.9.10, 0.9.11 and 1.3.1: fixtures/native-wire/):
 * - open: `GET /xend/node/` (0.x: xend_detect_config_version in xenDaemonOpen; 1.x: the node
 *   information xenUnifiedConnectOpen asks for; xenDaemonOpen itself sends nothing there);
 * - define: `POST /xend/domain/` with `op=new&config=<sxpr>` in the release's encoding; before
 *   1.0.6 (18b14012e turned xenDaemonDomainDefineXML into a virDomainDefPtr call) it then looks the
 *   domain up by name (`GET /xend/domain/<name>?detail=1`);
 * - start: `POST /xend/domain/<name>` `op=start`, then a lookup of the new domain id (0.x
 *   virDomainLookupByName, 1.x xenDaemonDomainLookupByName_ids);
 * - read: `GET /xend/domain/<name>?detail=1` (xenDaemonDomainFetch);
 * - destroy, delete: `POST /xend/domain/<name>` with `op=destroy` / `op=delete`.
 * A define or start that xend refuses (`refused`: libvirt's xend_post judgement) ends with its POST.
 */
export function libvirtRequests(release: string, encoding: WireEncoding, op: WireOp): WireRequest[] {
  const detail = (name: string, lookup?: true): WireRequest => ({ method: "GET", path: `/xend/domain/${name}?detail=1`, ...(lookup ? { lookup } : {}) });
  const post = (path: string, fields: [string, string][]): WireRequest => ({ method: "POST", path, body: encodeForm(encoding, fields) });
  switch (op.kind) {
    case "open":
      return [{ method: "GET", path: "/xend/node/" }];
    case "define": {
      const out = [post("/xend/domain/", [["op", "new"], ["config", op.sxpr]])];
      if (!op.refused && cmpVersion(release, "1.0.6") < 0) out.push(detail(op.name, true));
      return out;
    }
    case "start":
      return [post(`/xend/domain/${op.name}`, [["op", "start"]]), ...(op.refused ? [] : [detail(op.name, true)])];
    case "read":
      return [detail(op.name)];
    case "destroy":
      return [post(`/xend/domain/${op.name}`, [["op", "destroy"]])];
    case "delete":
      return [post(`/xend/domain/${op.name}`, [["op", "delete"]])];
  }
}

/** A request as libvirt's client writes it on the socket: request line, LIBVIRT_REQUEST_HEADERS, Content-Length for a POST, blank line, body. */
export function libvirtRequestBytes(r: WireRequest): Buffer {
  let head = `${r.method} ${r.path} HTTP/1.1\r\n`;
  for (const [k, v] of LIBVIRT_REQUEST_HEADERS) head += `${k}: ${v}\r\n`;
  const body = r.method === "POST" ? Buffer.from(r.body ?? "", "utf8") : null;
  if (body) head += `Content-Length: ${body.length}\r\n`;
  head += "\r\n";
  return body ? Buffer.concat([Buffer.from(head, "latin1"), body]) : Buffer.from(head, "latin1");
}
