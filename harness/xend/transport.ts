/**
 * The HTTP transport to xend, the way libvirt's xend driver talks to it: a new socket for every
 * request (TCP with TCP_NODELAY, or a unix socket), the request written exactly as given, and the reply
 * read as libvirt reads it (status line, header lines until a blank line, then the body by
 * Content-Length with libvirt's 256 KiB cap).
 *
 * One deliberate difference from libvirt: a reply without Content-Length is read until the server
 * closes (libvirt would read no body at all); xend always sends Content-Length, so this only matters
 * for foreign servers, and reading the body keeps the evidence.
 *
 * Faults are HarnessErrors: `backend.connect` (refused, no such socket, reset), `backend.timeout`
 * (nothing complete within the deadline), `backend.protocol` (malformed status line or header, bad or
 * wrong Content-Length, truncated body, over the cap). It never hangs: every exchange has a deadline.
 */
import * as net from "node:net";
import { oneLine } from "../terminal.js";
import { HarnessError } from "../errors.js";
import type { HttpRequest, HttpResponse } from "./types.js";

export type XendTarget = { kind: "tcp"; host: string; port: number } | { kind: "unix"; path: string };

/** libvirt's XEND_RCV_BUF_MAX_LEN. */
export const XEND_MAX_REPLY_BYTES = 256 * 1024;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_XEND_PORT = 8000;

/**
 * libvirt's cap applied to a reply that did not come over a socket (a recorded one): the same error,
 * in the same words, as the wire gives (the Content-Length header when the reply has one, else the
 * body's byte length; a body longer than the cap is over it whatever its header says). Null when the
 * reply is within the cap.
 */
export function replyOverCap(res: HttpResponse, maxBody = XEND_MAX_REPLY_BYTES): HarnessError | null {
  const bytes = Buffer.byteLength(res.body, "utf8");
  const cl = res.headers.find(([k]) => k.toLowerCase() === "content-length")?.[1].trim();
  const declared = cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined;
  const n = Math.max(bytes, declared ?? 0);
  if (n <= maxBody) return null;
  return new HarnessError("backend.protocol", `Xend returned HTTP Content-Length of ${declared ?? bytes}, which exceeds maximum of ${maxBody}`);
}

export interface ExchangeOptions {
  /** Deadline for the whole exchange (connect, send, full reply); default 30 s. */
  timeoutMs?: number;
  /** Reply body cap in bytes; default libvirt's 262144. */
  maxBodyBytes?: number;
}

/**
 * Parse a xend address: `http://host[:port]` (port 8000 by default) or `unix:///path/to/socket`.
 * Anything else is a usage error.
 */
export function parseTarget(url: string): XendTarget {
  const bad = (why: string) =>
    new HarnessError("input.usage", `bad xend address '${oneLine(url)}': ${why} (expected http://host[:port] or unix:///path)`);
  if (url.startsWith("unix://")) {
    const path = url.slice("unix://".length);
    if (!path.startsWith("/")) throw bad("a unix socket path must be absolute (unix:///path)");
    if (path.length < 2) throw bad("empty socket path");
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      throw bad("malformed %-escape in the socket path (write % as %25)");
    }
    if (decoded.includes("\0")) throw bad("a NUL byte in the socket path");
    return { kind: "unix", path: decoded };
  }
  if (url.startsWith("http://")) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw bad("not a valid URL");
    }
    if (parsed.pathname !== "/" && parsed.pathname !== "") throw bad("no path allowed after host:port");
    if (parsed.search || parsed.hash || parsed.username || parsed.password) throw bad("no query, fragment or credentials allowed");
    let host = parsed.hostname;
    if (!host) throw bad("missing host");
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
    const port = parsed.port ? Number(parsed.port) : DEFAULT_XEND_PORT;
    return { kind: "tcp", host, port };
  }
  throw bad("unknown scheme");
}

/** How a target is named in messages: `127.0.0.1:8000` or `unix:/var/lib/xend/xend-socket`. */
export function describeTarget(t: XendTarget): string {
  if (t.kind === "unix") return `unix:${t.path}`;
  return t.host.includes(":") ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

const RAW = Symbol("xend-compat.rawReply");

/** The reply's bytes exactly as they came over the socket, when it came from `exchange` (else undefined). */
export function rawReply(res: HttpResponse): Buffer | undefined {
  return (res as unknown as Record<symbol, Buffer | undefined>)[RAW];
}

/** A reply as bytes (status line, header lines in order, blank line, body), for a reply that has no raw bytes (a replayed one). */
export function serializeResponse(res: HttpResponse): Buffer {
  let head = `HTTP/1.1 ${res.status}${res.reason ? ` ${res.reason}` : ""}\r\n`;
  for (const [k, v] of res.headers) head += `${k}: ${v}\r\n`;
  head += "\r\n";
  return Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(res.body, "utf8")]);
}

/** The request as bytes: request line, header lines in the given order, blank line, body. */
export function serializeRequest(req: HttpRequest): Buffer {
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  for (const [k, v] of req.headers) head += `${k}: ${v}\r\n`;
  head += "\r\n";
  const headBuf = Buffer.from(head, "utf8");
  return req.body !== undefined && req.body !== "" ? Buffer.concat([headBuf, Buffer.from(req.body, "utf8")]) : headBuf;
}

/** Outcome of parsing the bytes received so far. */
type ParseState =
  | { done: false }
  | { done: true; response: HttpResponse }
  | { done: true; error: HarnessError };

/**
 * Incremental reply parser. `feed` the bytes as they arrive, `end` at close. Header lines end with
 * `\n` (a `\r` before it is dropped); the blank line ends the headers.
 */
class ReplyParser {
  private chunks: Buffer[] = [];
  private received = 0;
  private headerEnd = -1;
  private status = 0;
  private reason = "";
  private headers: [string, string][] = [];
  private contentLength: number | undefined;
  constructor(
    private readonly where: string,
    private readonly maxBody: number,
  ) {}

  get bytesReceived(): number {
    return this.received;
  }
  get headersDone(): boolean {
    return this.headerEnd >= 0;
  }

  private buf(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private proto(msg: string): ParseState {
    return { done: true, error: new HarnessError("backend.protocol", `xend at ${this.where}: ${msg}`) };
  }

  feed(chunk: Buffer): ParseState {
    this.chunks.push(chunk);
    this.received += chunk.length;
    if (this.headerEnd < 0) {
      const r = this.parseHead();
      if (r) return r;
      if (this.headerEnd < 0) {
        if (this.received > 64 * 1024) return this.proto(`reply headers longer than 65536 bytes without a blank line`);
        return { done: false };
      }
    }
    const bodyLen = this.received - this.headerEnd;
    if (this.contentLength !== undefined) {
      if (bodyLen > this.contentLength)
        return this.proto(
          `reply body has more bytes than its Content-Length of ${this.contentLength} (got at least ${bodyLen})`,
        );
      if (bodyLen === this.contentLength) return this.finish();
      return { done: false };
    }
    if (bodyLen > this.maxBody)
      return this.proto(`reply without Content-Length exceeds the maximum of ${this.maxBody} bytes`);
    return { done: false };
  }

  /** The server closed the connection. */
  end(): ParseState {
    if (this.headerEnd < 0) {
      if (this.received === 0) return this.proto("connection closed without any reply");
      return this.proto(`connection closed after ${this.received} bytes, before the end of the reply headers`);
    }
    const bodyLen = this.received - this.headerEnd;
    if (this.contentLength !== undefined && bodyLen < this.contentLength)
      return this.proto(
        `truncated reply body: Content-Length is ${this.contentLength} but the connection closed after ${bodyLen} body bytes`,
      );
    return this.finish();
  }

  private finish(): ParseState {
    const all = this.buf();
    const body = all.subarray(this.headerEnd).toString("utf8");
    const response: HttpResponse = { status: this.status, reason: this.reason, headers: this.headers, body };
    // The reply's bytes as xend sent them, for a proxy that hands them on unchanged (the native wire,
    // harness/run/native.ts); not enumerable, so reports and recordings never carry them twice.
    Object.defineProperty(response, RAW, { value: Buffer.from(all), enumerable: false });
    return { done: true, response };
  }

  private parseHead(): ParseState | undefined {
    const b = this.buf();
    let pos = 0;
    const lines: string[] = [];
    for (;;) {
      const nl = b.indexOf(10, pos);
      if (nl < 0) return undefined;
      let line = b.subarray(pos, nl).toString("latin1");
      if (line.endsWith("\r")) line = line.slice(0, -1);
      pos = nl + 1;
      if (line === "") break;
      lines.push(line);
    }
    this.headerEnd = pos;
    if (lines.length === 0) return this.proto("empty reply head (no status line)");
    const m = /^HTTP\/(\d+)\.(\d+) +(\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!m) return this.proto(`malformed status line '${truncate(lines[0])}'`);
    this.status = Number(m[3]);
    this.reason = m[4] ?? "";
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) return this.proto(`malformed header line '${truncate(line)}'`);
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      this.headers.push([name, value]);
      if (name.toLowerCase() === "content-length") {
        if (!/^\d+$/.test(value)) return this.proto(`bad Content-Length '${truncate(value)}'`);
        const n = Number(value);
        if (this.contentLength !== undefined && this.contentLength !== n)
          return this.proto(`two different Content-Length headers (${this.contentLength} and ${n})`);
        if (n > this.maxBody)
          return {
            done: true,
            error: new HarnessError(
              "backend.protocol",
              `Xend returned HTTP Content-Length of ${n}, which exceeds maximum of ${this.maxBody}`,
            ),
          };
        this.contentLength = n;
      }
    }
    return undefined;
  }
}

function truncate(s: string, n = 80): string {
  return s.length > n ? s.slice(0, n) + "..." : s;
}

function connectError(where: string, err: NodeJS.ErrnoException, phase: string, received: number): HarnessError {
  const code = err.code ?? "";
  let what: string;
  switch (code) {
    case "ECONNREFUSED":
      what = "connection refused (is xend running and listening there?)";
      break;
    case "ENOENT":
      what = "no such socket file";
      break;
    case "EACCES":
      what = "permission denied";
      break;
    case "ECONNRESET":
      what = `connection reset by xend ${phase === "reply" ? `after ${received} bytes of the reply` : `while ${phase}`}`;
      break;
    case "EPIPE":
      what = "xend closed the connection while the request was being sent";
      break;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      what = "host name not found";
      break;
    default:
      what = err.message;
  }
  return new HarnessError("backend.connect", `cannot talk to xend at ${where}: ${what}${code ? ` (${code})` : ""}`, { cause: err });
}

/**
 * Do one request/reply exchange on a new connection. Resolves with the reply whatever its status
 * (HTTP errors are the caller's business); rejects with a HarnessError on transport faults.
 */
export function exchange(target: XendTarget, req: HttpRequest, opts: ExchangeOptions = {}): Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBody = opts.maxBodyBytes ?? XEND_MAX_REPLY_BYTES;
  const where = describeTarget(target);
  const payload = serializeRequest(req);
  return new Promise<HttpResponse>((resolve, reject) => {
    const parser = new ReplyParser(where, maxBody);
    let phase: "connecting" | "sending the request" | "reply" = "connecting";
    let settled = false;
    const sock =
      target.kind === "unix"
        ? net.createConnection({ path: target.path })
        : net.createConnection({ host: target.host, port: target.port, noDelay: true });
    const settle = (r: ParseState) => {
      if (settled || !r.done) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if ("error" in r) reject(r.error);
      else resolve(r.response);
    };
    const timer = setTimeout(() => {
      if (settled) return;
      const state =
        phase === "reply"
          ? parser.bytesReceived === 0
            ? "request sent, no reply yet"
            : `${parser.bytesReceived} bytes of the reply received${parser.headersDone ? "" : " (headers incomplete)"}`
          : phase;
      settled = true;
      sock.destroy();
      reject(
        new HarnessError(
          "backend.timeout",
          `xend at ${where} did not complete ${req.method} ${req.path} within ${timeoutMs} ms (${state})`,
        ),
      );
    }, timeoutMs);
    sock.on("connect", () => {
      if (target.kind === "tcp") sock.setNoDelay(true);
      phase = "sending the request";
      sock.write(payload, () => {
        if (phase === "sending the request") phase = "reply";
      });
    });
    sock.on("data", (chunk: Buffer) => {
      phase = "reply";
      settle(parser.feed(chunk));
    });
    sock.on("end", () => settle(parser.end()));
    sock.on("error", (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      reject(connectError(where, err, phase, parser.bytesReceived));
    });
    sock.on("close", () => {
      // "end" normally comes first; a close without it (e.g. destroyed by the peer) ends the reply too.
      if (!settled) settle(parser.end());
    });
  });
}
