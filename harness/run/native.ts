/**
 * The native wire (`--wire native`): the built tree's own xend client (driver/xcdriver.c's x*
 * commands) does the HTTP talking; not one byte of what xend receives is ours.
 *
 * Between the tree's client and the backend sits a loopback proxy of ours, one per cell: it reads each
 * request the tree writes (request line, headers, Content-Length body), hands it to the cell's backend
 * session unchanged (the session's transport writes the very same bytes: checked byte for byte, a
 * request it could not reproduce is refused and the cell is an error), and writes back xend's reply as
 * xend sent it (the transport's raw bytes; a replayed reply, which has none, is serialised). The session
 * is the cell's logged (and, under `record`, recording) session, so the observation, the JSON report
 * and a recording come from the real bytes.
 */
import * as net from "node:net";
import { HarnessError } from "../errors.js";
import { libvirtErrorOf, type BuiltProfile, type DriverReply } from "../libvirt/build/index.js";
import { XendClient, rawReply, serializeRequest, serializeResponse } from "../xend/index.js";
import type { BackendSession, HttpRequest, HttpResponse } from "../xend/types.js";

/** One request the tree's client sent through the proxy, with xend's reply. */
export interface NativeExchange {
  step: string;
  /** The request's bytes as the tree wrote them. */
  raw: Buffer;
  request: HttpRequest;
  response?: HttpResponse;
  /** The reply went back as xend's own bytes (false: serialised from a replayed reply). */
  rawReply?: boolean;
  error?: string;
}

let tap: ((cellId: string, x: NativeExchange) => void) | null = null;

/**
 * Watch every request the tree's clients send (with xend's reply), by cell: how
 * ci/record-native-wire.ts records the real bytes. null stops watching.
 */
export function tapNativeWire(fn: ((cellId: string, x: NativeExchange) => void) | null): void {
  tap = fn;
}

/** Why a profile cannot be driven through its own xend client, or null when it can. */
export function nativeRefusal(profile: object): string | null {
  const p = profile as Partial<BuiltProfile>;
  if (typeof p.native !== "function" || p.nativeRefusal === undefined) return "a model profile, not a built tree (src:DIR): only our wire";
  return p.nativeRefusal;
}

const MAX_HEAD = 64 * 1024;
const MAX_BODY = 16 * 1024 * 1024;

/** Parse one complete request (head and body); null while incomplete; throws when malformed. */
function parseRequest(buf: Buffer): { req: HttpRequest; length: number } | null {
  // The head ends at the first blank line, CRLF or bare LF (a client writing bare LFs is read, then
  // refused by the byte-for-byte check: the session's transport writes CRLF).
  const crlf = buf.indexOf("\r\n\r\n");
  const lf = buf.indexOf("\n\n");
  const end = crlf >= 0 && (lf < 0 || crlf + 2 <= lf) ? crlf : lf;
  const sep = end === crlf && crlf >= 0 ? 4 : 2;
  if (end < 0) {
    if (buf.length > MAX_HEAD) throw new Error(`request head longer than ${MAX_HEAD} bytes`);
    return null;
  }
  const lines = buf.subarray(0, end).toString("latin1").split(/\r?\n/);
  const m = /^(GET|POST|PUT|DELETE) (\S+) HTTP\/1\.[01]$/.exec(lines[0]);
  if (!m) throw new Error(`unreadable request line '${lines[0].slice(0, 80)}'`);
  const headers: [string, string][] = [];
  let length = 0;
  for (const l of lines.slice(1)) {
    const c = l.indexOf(": ");
    if (c <= 0) throw new Error(`unreadable header line '${l.slice(0, 80)}'`);
    headers.push([l.slice(0, c), l.slice(c + 2)]);
    if (l.slice(0, c).toLowerCase() === "content-length") {
      length = Number(l.slice(c + 2));
      if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BODY) throw new Error(`bad Content-Length '${l.slice(c + 2)}'`);
    }
  }
  if (buf.length < end + sep + length) return null;
  const body = buf.subarray(end + sep, end + sep + length);
  const req: HttpRequest = { method: m[1] as HttpRequest["method"], path: m[2], headers, ...(length || headers.some(([k]) => k.toLowerCase() === "content-length") ? { body: body.toString("utf8") } : {}) };
  return { req, length: end + sep + length };
}

/** A cell's connection to xend through the tree's own client. */
export class NativeWire {
  readonly exchanges: NativeExchange[] = [];
  /** The first fault of the proxy (a request that could not be forwarded unchanged, a backend fault). */
  fault: HarnessError | null = null;
  private step = "0-node";
  private handle = -1;
  private constructor(
    private readonly profile: BuiltProfile,
    private readonly session: BackendSession,
    private readonly server: net.Server,
    private readonly sockets: Set<net.Socket>,
    readonly port: number,
    readonly cellId: string,
  ) {}

  /** Start the proxy and open the tree's xend connection through it (0.x asks GET /xend/node/, 1.x via xenDaemonNodeGetInfo). */
  static async open(profile: BuiltProfile, session: BackendSession, step: string, cellId = ""): Promise<{ wire: NativeWire; xendConfigFormat: number }> {
    const sockets = new Set<net.Socket>();
    let wire: NativeWire | null = null;
    const server = net.createServer((sock) => {
      sockets.add(sock);
      sock.on("close", () => sockets.delete(sock));
      wire?.serve(sock);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    wire = new NativeWire(profile, session, server, sockets, port, cellId);
    wire.step = step;
    let r: DriverReply;
    try {
      r = await profile.native("xopen", port, "");
    } catch (e) {
      await wire.shut();
      throw e;
    }
    if (r.kind !== "ok" || wire.fault) {
      if (r.kind === "ok") await profile.native("xclose", Number(r.text.split(" ")[0]), "").catch(() => undefined);
      await wire.shut();
      throw await wire.failure(r, "opening the xend connection");
    }
    const [h, v] = r.text.split(" ").map(Number);
    wire.handle = h;
    let format = v;
    if (!(format >= 0)) {
      // 1.x keeps no config version: read it from the node reply its xenDaemonNodeGetInfo got.
      const node = wire.exchanges.find((x) => x.request.method === "GET" && x.request.path === "/xend/node/" && x.response);
      format = node ? (await new XendClient(canned(node.response!)).getNode(step)).xendConfigFormat : 1;
    }
    return { wire, xendConfigFormat: format };
  }

  private serve(sock: net.Socket): void {
    let buf: Buffer = Buffer.alloc(0);
    let taken = false;
    sock.on("error", () => {
      /* the tree closed its end; nothing to answer */
    });
    sock.on("data", (d: Buffer) => {
      if (taken) return;
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let parsed;
      try {
        parsed = parseRequest(buf);
      } catch (e) {
        taken = true;
        this.setFault(new HarnessError("backend.protocol", `the tree's xend client sent a request the proxy cannot read: ${(e as Error).message}`));
        sock.destroy();
        return;
      }
      if (!parsed) return;
      taken = true;
      void this.forward(sock, buf.subarray(0, parsed.length), parsed.req);
    });
  }

  private async forward(sock: net.Socket, raw: Buffer, req: HttpRequest): Promise<void> {
    const x: NativeExchange = { step: this.step, raw: Buffer.from(raw), request: req };
    this.exchanges.push(x);
    // The session writes serializeRequest(req): it must be the tree's bytes exactly.
    if (!serializeRequest(req).equals(raw)) {
      x.error = "the request cannot be forwarded byte for byte";
      this.setFault(new HarnessError("backend.protocol", `the tree's ${req.method} ${req.path} cannot be forwarded byte for byte by the backend session (its transport would write other bytes)`));
      sock.destroy();
      return;
    }
    try {
      const res = await this.session.send(req, this.step);
      x.response = res;
      const bytes = rawReply(res);
      x.rawReply = bytes !== undefined;
      sock.end(bytes ?? serializeResponse(res));
      tap?.(this.cellId, x);
    } catch (e) {
      x.error = e instanceof Error ? e.message : String(e);
      this.setFault(e instanceof HarnessError ? e : new HarnessError("backend.connect", x.error));
      sock.destroy();
    }
  }

  private setFault(e: HarnessError): void {
    if (!this.fault) this.fault = e;
  }

  /** A refusal of the tree's code as the cell's error: the proxy's fault first, else xend's refusal as libvirt judges it, else libvirt's own error. */
  private async failure(r: DriverReply, what: string, since = 0): Promise<HarnessError> {
    if (this.fault) return this.fault;
    if (r.kind === "no") return new HarnessError("backend.unavailable", `${what}: ${r.text}`);
    // xend said no to one of the requests made for this command: the same refusal our client states.
    for (const x of this.exchanges.slice(since)) {
      if (!x.response) continue;
      const refusal = await judge(x.request, x.response);
      if (refusal) return refusal;
    }
    return libvirtErrorOf(r.text);
  }

  /** One command of the tree's client on this connection; its requests are labelled `step`. */
  private async run(cmd: "xdefine" | "xstart" | "xfetch" | "xdestroy" | "xdelete", body: string, step: string, what: string): Promise<{ text: string; exchanges: NativeExchange[] }> {
    this.step = step;
    const since = this.exchanges.length;
    const r = await this.profile.native(cmd, this.handle, body);
    if (r.kind !== "ok" || this.fault) throw await this.failure(r, what, since);
    return { text: r.text, exchanges: this.exchanges.slice(since) };
  }

  /** xenDaemonDomainDefineXML: the POST op=new (0.x: then its own lookup). Returns the POST's body as the tree sent it. */
  async define(xml: string, step: string): Promise<{ body: string | null }> {
    const since = this.exchanges.length;
    try {
      await this.run("xdefine", xml, step, "define");
    } finally {
      // the body is observed whatever xend answered
      this.lastDefineBody = this.exchanges.slice(since).find((x) => x.request.method === "POST")?.request.body ?? null;
    }
    return { body: this.lastDefineBody };
  }
  lastDefineBody: string | null = null;

  /** Did a POST op=new go out (and get any reply) during the last define? */
  definePosted(): boolean {
    return this.lastDefineBody !== null;
  }

  async start(name: string, step: string): Promise<void> {
    await this.run("xstart", name, step, "start");
  }
  async destroy(name: string, step: string): Promise<void> {
    await this.run("xdestroy", name, step, "destroy");
  }
  async remove(name: string, step: string): Promise<void> {
    await this.run("xdelete", name, step, "delete");
  }

  /**
   * xenDaemonDomainFetch + the tree's formatter: the domain XML, and the read-back reply exactly as
   * xend sent it (null status 404: xend no longer knows the domain).
   */
  async fetch(name: string, step: string): Promise<{ xml: string; raw: string } | { missing: true }> {
    this.step = step;
    const since = this.exchanges.length;
    const r = await this.profile.native("xfetch", this.handle, name);
    const got = this.exchanges.slice(since).filter((x) => x.request.method === "GET" && x.request.path.startsWith(`/xend/domain/${name}?`) && x.response);
    const last = got[got.length - 1];
    if (this.fault) throw this.fault;
    if (last?.response?.status === 404) return { missing: true };
    if (r.kind !== "ok") throw await this.failure(r, "read", since);
    if (!last) throw new HarnessError("internal", `the tree's xenDaemonDomainFetch answered without a GET of ${name}`);
    return { xml: r.text, raw: last.response!.body };
  }

  /** Forget the tree's connection and stop the proxy. */
  async close(): Promise<void> {
    if (this.handle >= 0) {
      const h = this.handle;
      this.handle = -1;
      await this.profile.native("xclose", h, "").catch(() => undefined);
    }
    await this.shut();
  }

  private async shut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A session answering every request with one reply (to judge a reply with our client's rules). */
function canned(res: HttpResponse): BackendSession {
  return {
    send: async () => res,
    control: async () => ({ ok: false }),
    end: async () => {},
  };
}

/** xend's refusal as libvirt states it (our client's rules, harness/xend/client.ts), or null when the reply is not one. */
async function judge(req: HttpRequest, res: HttpResponse): Promise<HarnessError | null> {
  const c = new XendClient(canned(res));
  try {
    if (req.method === "POST") await c.post(req.path, req.body ?? "", "judge");
    else await c.get(req.path, "judge");
    return null;
  } catch (e) {
    return e instanceof HarnessError && e.code === "backend.xend" ? e : null;
  }
}
