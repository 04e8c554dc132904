/**
 * The replay server: serves the shipped recordings over xend's HTTP protocol, so a container can
 * play xend where no Xen tree is at hand (CI) and the container lifecycle, ports and HTTP are
 * exercised for real. Requests are matched by harness/xend's RecordedBackend, exactly as the
 * in-process replay matches them; the cell comes from the control channel (./protocol.ts).
 *
 * The xend port is a small raw HTTP/1.x server: it reads one request (head + Content-Length body),
 * writes the recorded reply byte for byte (status line, the recorded header lines in their order,
 * the body) and closes, as xend does. `GET /xend/node/` outside any session answers with the first
 * recorded node reply of this xend version (read only), so readiness probes see a real xend answer.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { HarnessError, isHarnessError } from "../errors.js";
import { xendDir } from "../safepath.js";
import { RecordedBackend, loadRecording, type BackendSession, type ControlStep, type HttpRequest, type HttpResponse } from "../xend/index.js";
import { CONTROL_PATH, ERROR_HEADER, HEALTH_PATH, REPLAY_ERROR_STATUS, SESSION_HEADER, STEP_HEADER } from "./protocol.js";

export interface ReplayServerOptions {
  /** The recordings directory (holds `<xend>/<libvirt>/<scenario>.yaml`). */
  recordingsDir: string;
  xendVersion: string;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  controlPort?: number;
  /**
   * How the recordings directory is shown to the user, when the server's view differs (in a
   * container: the host's directory). Error messages name recording files through it.
   */
  shownDir?: string;
  log?: (line: string) => void;
}

export interface ReplayServer {
  xendPort: number;
  controlPort: number;
  /** How many recordings of this xend version the server found. */
  recordings: number;
  close(): Promise<void>;
}

interface ParsedRequest {
  req: HttpRequest;
  session?: string;
  step?: string;
}

const MAX_HEAD = 64 * 1024;
const MAX_BODY = 16 * 1024 * 1024;

/** Every recording file of one xend version (sorted, so the node reply is stable). */
function recordingFiles(dir: string, xendVersion: string): string[] {
  let root: string;
  try {
    root = xendDir(dir, xendVersion, "recordings");
    return (fs.readdirSync(root, { recursive: true }) as string[])
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => path.join(root, f))
      .sort();
  } catch {
    return [];
  }
}

function rawResponse(res: HttpResponse): Buffer {
  let head = `HTTP/1.1 ${res.status}${res.reason ? ` ${res.reason}` : ""}\r\n`;
  for (const [k, v] of res.headers) head += `${k}: ${v}\r\n`;
  head += "\r\n";
  return Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(res.body, "utf8")]);
}

function errorResponse(code: string, message: string): Buffer {
  const body = Buffer.from(message, "utf8");
  const head =
    `HTTP/1.1 ${REPLAY_ERROR_STATUS} Replay Error\r\n${ERROR_HEADER}: ${code}\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/** Parse one request from the bytes so far; undefined = need more. Throws on malformed input. */
function parseRequest(buf: Buffer): ParsedRequest | undefined {
  const end = buf.indexOf("\r\n\r\n");
  const endLf = buf.indexOf("\n\n");
  let headEnd: number;
  let sepLen: number;
  if (end >= 0 && (endLf < 0 || end < endLf)) {
    headEnd = end;
    sepLen = 4;
  } else if (endLf >= 0) {
    headEnd = endLf;
    sepLen = 2;
  } else {
    if (buf.length > MAX_HEAD) throw new Error("request head too long");
    return undefined;
  }
  const lines = buf.subarray(0, headEnd).toString("latin1").split(/\r?\n/);
  const m = /^([A-Z]+) (\S+) HTTP\/\d\.\d$/.exec(lines[0] ?? "");
  if (!m) throw new Error(`malformed request line '${(lines[0] ?? "").slice(0, 80)}'`);
  const headers: [string, string][] = [];
  let session: string | undefined;
  let step: string | undefined;
  let length = 0;
  for (const line of lines.slice(1)) {
    const c = line.indexOf(":");
    if (c <= 0) throw new Error(`malformed header line '${line.slice(0, 80)}'`);
    const name = line.slice(0, c);
    const value = line.slice(c + 1).trim();
    const lower = name.toLowerCase();
    if (lower === SESSION_HEADER.toLowerCase()) session = value;
    else if (lower === STEP_HEADER.toLowerCase()) step = decodeURIComponent(value);
    else headers.push([name, value]);
    if (lower === "content-length") {
      if (!/^\d+$/.test(value) || Number(value) > MAX_BODY) throw new Error(`bad Content-Length '${value}'`);
      length = Number(value);
    }
  }
  const bodyStart = headEnd + sepLen;
  if (buf.length - bodyStart < length) return undefined;
  const method = m[1] as HttpRequest["method"];
  const req: HttpRequest = { method, path: m[2], headers };
  if (length > 0) req.body = buf.subarray(bodyStart, bodyStart + length).toString("utf8");
  return { req, session, step };
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** As harness/xend shows a path: relative to the working directory when inside it. */
function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}

export async function startReplayServer(opts: ReplayServerOptions): Promise<ReplayServer> {
  const log = opts.log ?? (() => {});
  const inside = displayPath(path.resolve(opts.recordingsDir)) + path.sep;
  const shown = (msg: string) => (opts.shownDir ? msg.split(inside).join(opts.shownDir.replace(/\/?$/, path.sep)) : msg);
  const host = opts.host ?? "127.0.0.1";
  const backend = new RecordedBackend({ dir: opts.recordingsDir, xendVersion: opts.xendVersion });
  const files = recordingFiles(opts.recordingsDir, opts.xendVersion);
  const sessions = new Map<string, { cell: string; session: BackendSession }>();
  let latest: string | undefined;

  /** The first recorded reply to GET /xend/node/ of this xend version, for probes outside a session. */
  let nodeReply: HttpResponse | null | undefined;
  async function findNodeReply(): Promise<HttpResponse | null> {
    if (nodeReply !== undefined) return nodeReply;
    nodeReply = null;
    for (const f of files) {
      try {
        const rec = await loadRecording(f);
        if (rec.provenance.xendVersion !== opts.xendVersion) continue;
        const x = rec.exchanges.find((e) => e.channel === "xend" && e.request.method === "GET" && e.request.path === "/xend/node/");
        if (x && x.channel === "xend") {
          nodeReply = x.response;
          break;
        }
      } catch (e) {
        log(`replay: skipping unreadable recording ${f}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return nodeReply;
  }

  async function answer(p: ParsedRequest): Promise<Buffer> {
    const id = p.session ?? latest;
    const s = id ? sessions.get(id) : undefined;
    if (!s) {
      if (p.req.method === "GET" && p.req.path === "/xend/node/") {
        const r = await findNodeReply();
        if (r) return rawResponse(r);
        return errorResponse("backend.unmatched", `no recording of xend ${opts.xendVersion} in ${opts.recordingsDir} has a GET /xend/node/ reply`);
      }
      return errorResponse(
        "backend.unavailable",
        p.session ? `no replay session '${p.session}' (ended or never opened)` : "no cell announced: send {kind: open-cell, cell} to the control channel first",
      );
    }
    try {
      return rawResponse(await s.session.send(p.req, p.step ?? "request"));
    } catch (e) {
      if (isHarnessError(e)) return errorResponse(e.code, shown(e.message));
      return errorResponse("internal", e instanceof Error ? e.message : String(e));
    }
  }

  const xendServer = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    let done = false;
    sock.on("error", () => {});
    sock.on("data", (chunk: Buffer) => {
      if (done) return;
      buf = Buffer.concat([buf, chunk]);
      let p: ParsedRequest | undefined;
      try {
        p = parseRequest(buf);
      } catch (e) {
        done = true;
        const body = `bad request: ${(e as Error).message}`;
        sock.end(`HTTP/1.1 400 Bad Request\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        return;
      }
      if (!p) return;
      done = true;
      answer(p).then(
        (out) => sock.end(out),
        (e: unknown) => sock.end(errorResponse("internal", String(e))),
      );
    });
  });

  async function control(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    const kind = msg.kind;
    if (kind === "open-cell") {
      if (typeof msg.cell !== "string") return { ok: false, detail: "open-cell needs a cell id" };
      const session = await backend.open(msg.cell);
      const id = randomUUID();
      sessions.set(id, { cell: msg.cell, session });
      latest = id;
      log(`replay: opened ${msg.cell} (session ${id.slice(0, 8)})`);
      return { ok: true, session: id };
    }
    const id = typeof msg.session === "string" ? msg.session : latest;
    const s = id ? sessions.get(id) : undefined;
    if (kind === "info") return { ok: true, info: { kind: "replay", xendVersion: opts.xendVersion, recordings: files.length, sessions: sessions.size } };
    if (!s || !id) return { ok: false, code: "backend.unavailable", detail: `no replay session ${msg.session ? `'${String(msg.session)}'` : "open"}` };
    if (kind === "end-cell") {
      sessions.delete(id);
      if (latest === id) latest = undefined;
      await s.session.end();
      log(`replay: ended ${s.cell}`);
      return { ok: true };
    }
    const step = typeof msg.step === "string" ? msg.step : String(kind);
    const domain = String(msg.domain ?? "");
    let c: ControlStep;
    if (kind === "guest-set-rtc") c = { kind, domain, delta: Number(msg.delta) };
    else if (kind === "guest-poweroff" || kind === "effective-clock") c = { kind, domain };
    else return { ok: false, detail: `unknown control kind '${String(kind)}'` };
    const r = await s.session.control(c, step);
    return { ...r };
  }

  const controlServer = http.createServer((req, res) => {
    const reply = (status: number, obj: unknown) => {
      const body = JSON.stringify(obj);
      res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method === "GET" && req.url === HEALTH_PATH) return reply(200, { ok: true, kind: "replay", xendVersion: opts.xendVersion, recordings: files.length });
    if (req.method !== "POST" || req.url !== CONTROL_PATH) return reply(404, { ok: false, detail: `POST ${CONTROL_PATH}` });
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (raw += c));
    req.on("end", () => {
      let msg: unknown;
      try {
        msg = JSON.parse(raw || "{}");
      } catch (e) {
        return reply(400, { ok: false, detail: `bad JSON: ${(e as Error).message}` });
      }
      if (msg === null || typeof msg !== "object" || Array.isArray(msg)) return reply(400, { ok: false, detail: "not a JSON object" });
      control(msg as Record<string, unknown>).then(
        (r) => reply(200, r),
        (e: unknown) =>
          reply(200, isHarnessError(e) ? { ok: false, code: e.code, detail: shown(e.message) } : { ok: false, code: "internal", detail: String(e) }),
      );
    });
  });

  const xendPort = await listen(xendServer, opts.port ?? 0, host);
  let controlPort: number;
  try {
    controlPort = await listen(controlServer, opts.controlPort ?? 0, host);
  } catch (e) {
    xendServer.close();
    throw new HarnessError("backend.unavailable", `replay server: cannot listen on ${host}:${opts.controlPort}: ${String(e)}`, { cause: e });
  }
  log(`replay server for xend ${opts.xendVersion}: ${files.length} recording(s) in ${opts.recordingsDir}; xend on ${host}:${xendPort}, control on ${host}:${controlPort}`);
  return {
    xendPort,
    controlPort,
    recordings: files.length,
    close: () =>
      new Promise<void>((resolve) => {
        let n = 2;
        const one = () => --n === 0 && resolve();
        xendServer.close(one);
        controlServer.close(one);
        controlServer.closeAllConnections();
      }),
  };
}
