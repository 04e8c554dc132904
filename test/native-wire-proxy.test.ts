/**
 * The native wire's proxy and its place in a cell, without a libvirt tree: a stand-in for the tree's
 * client (our own few lines writing HTTP to the proxy's port, as xend_get/xend_post do) and a
 * stand-in xend behind the real transport. Proves: the session gets the client's request byte for
 * byte and the client gets xend's reply byte for byte (odd spacing kept); a request the session could
 * not reproduce exactly is refused (the cell's error, not a silent rewrite); a crash of the tree's code
 * is that cell's error and the next cell runs.
 */
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HarnessError } from "../harness/errors.js";
import type { DriverReply, NativeCommand } from "../harness/libvirt/build/index.js";
import { expandCells, fromRoot, loadMatrix, DEFAULT_MATRIX, type Cell } from "../harness/matrix/index.js";
import { runCell } from "../harness/run/index.js";
import { exchange, serializeRequest, type XendTarget } from "../harness/xend/index.js";
import type { Backend, BackendSession, HttpRequest, Provenance } from "../harness/xend/types.js";

const ODD_REPLY_HEAD = "HTTP/1.1 200 OK\r\nServer:   odd  spacing\r\nContent-Length: ";

/** A stand-in xend: answers node, define, read, delete; with header spacing our serialiser would not write. */
function standInXend(): Promise<{ target: XendTarget; close: () => Promise<void> }> {
  const server = net.createServer((sock) => {
    let buf = "";
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = Number(/Content-Length: (\d+)/.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const line = buf.slice(0, buf.indexOf("\r\n"));
      let body = "";
      if (line.startsWith("GET /xend/node/")) body = "(node (xend_config_format 4))";
      else if (line.startsWith("GET /xend/domain/")) body = "(domain (domid 1) (name x) (image (linux (kernel /k))))";
      sock.end(`${ODD_REPLY_HEAD}${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  });
  return new Promise((resolve) =>
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({ target: { kind: "tcp", host: "127.0.0.1", port }, close: () => new Promise((r) => server.close(() => r())) });
    }),
  );
}

/** A backend whose session sends through the real transport and keeps what it was asked to send. */
function backendTo(target: XendTarget, seen: HttpRequest[]): Backend {
  const prov: Provenance = { xendVersion: "4.1.2", tree: "stand-in", commit: "unknown", tz: "UTC" };
  return {
    kind: "sandbox",
    xendVersion: "4.1.2",
    concurrency: 1,
    guestControl: false,
    provenance: () => prov,
    async open(): Promise<BackendSession> {
      return {
        send: async (req) => {
          seen.push(req);
          return exchange(target, req, { timeoutMs: 5000 });
        },
        control: async () => {
          throw new HarnessError("backend.unavailable", "no guest here");
        },
        end: async () => {},
      };
    },
    close: async () => {},
  };
}

/** One request written to the proxy as the tree's client does; the reply's bytes as received. */
function clientRequest(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.createConnection({ host: "127.0.0.1", port }, () => s.write(bytes));
    s.on("data", (d) => chunks.push(d));
    s.on("end", () => resolve(Buffer.concat(chunks)));
    s.on("close", () => resolve(Buffer.concat(chunks)));
    s.on("error", reject);
  });
}

const H = "Host: localhost:8000\r\nAccept-Encoding: identity\r\nContent-Type: application/x-www-form-urlencoded\r\n";
const get = (p: string) => Buffer.from(`GET ${p} HTTP/1.1\r\n${H}\r\n`);
const post = (p: string, body: string) => Buffer.from(`POST ${p} HTTP/1.1\r\n${H}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

/** A stand-in built profile: `native` drives the stand-in client; `crashAt` makes that command crash as the tree's code would. */
function standInProfile(opts: { crashAt?: NativeCommand; lfOnly?: boolean; sent: Buffer[]; replies: Buffer[] }) {
  let port = 0;
  const send = async (b: Buffer) => {
    opts.sent.push(b);
    opts.replies.push(await clientRequest(port, b));
  };
  return {
    id: "src:0.9.11@standin",
    first: "0.9.11",
    last: "0.9.11",
    summary: "stand-in",
    wire: "uri" as const,
    nativeRefusal: null,
    format: async () => ({ sxpr: "(vm (name x))", warnings: [] }),
    parse: async () => ({ xml: "<domain/>", warnings: [] }),
    async native(cmd: NativeCommand, arg: number, body: string): Promise<DriverReply> {
      if (cmd === opts.crashAt) throw new HarnessError("driver.crash", "libvirt's code crashed during this conversion: the driver process was killed by SIGSEGV");
      switch (cmd) {
        case "xopen":
          port = arg;
          await send(opts.lfOnly ? Buffer.from(get("/xend/node/").toString("latin1").replace(/\r\n/g, "\n")) : get("/xend/node/"));
          return { kind: "ok", text: "0 4" };
        case "xdefine":
          await send(post("/xend/domain/", "op=new&config=%28vm%29"));
          return { kind: "ok", text: "" };
        case "xfetch":
          await send(get(`/xend/domain/${body}?detail=1`));
          return { kind: "ok", text: "<domain type='xen'><name>x</name><clock offset='utc'/></domain>" };
        case "xdelete":
          await send(post(`/xend/domain/${body}`, "op=delete"));
          return { kind: "ok", text: "" };
        default:
          return { kind: "ok", text: "" };
      }
    },
  };
}

let xend: Awaited<ReturnType<typeof standInXend>>;
let cell: Cell;
beforeAll(async () => {
  xend = await standInXend();
  const m = loadMatrix(fromRoot(DEFAULT_MATRIX));
  cell = expandCells(m, { xend: ["4.1.2"], libvirt: ["0.9.11"], scenario: "pv-utc" })[0];
});
afterAll(() => xend.close());

describe("the native wire's proxy", () => {
  it("hands the client's bytes to the session unchanged and xend's reply bytes back unchanged", async () => {
    const seen: HttpRequest[] = [];
    const sent: Buffer[] = [];
    const replies: Buffer[] = [];
    const run = await runCell(cell, backendTo(xend.target, seen), { profile: standInProfile({ sent, replies }) as never, wire: "native" });
    expect(run.wire).toBe("native");
    expect(run.verdict, run.reason).not.toBe("error");
    expect(seen.length).toBe(sent.length);
    expect(sent.length).toBeGreaterThanOrEqual(4);
    for (let i = 0; i < sent.length; i++) expect(serializeRequest(seen[i]).equals(sent[i])).toBe(true);
    // xend's odd header spacing reached the client as xend wrote it (a re-serialised reply would trim it)
    for (const r of replies) expect(r.toString("latin1").startsWith(ODD_REPLY_HEAD)).toBe(true);
    expect(run.observation.wireBody).toBe("op=new&config=%28vm%29");
    expect(run.observation.sxprReturned).toContain("(domid 1)");
    expect(run.observation.exchanges.map((x) => x.step)).toEqual(["0-node", "1-define", "2-read", "cleanup-delete"]);
  });

  it("refuses a request the session would not write byte for byte: the cell's error, nothing rewritten", async () => {
    const seen: HttpRequest[] = [];
    const run = await runCell(cell, backendTo(xend.target, seen), { profile: standInProfile({ lfOnly: true, sent: [], replies: [] }) as never, wire: "native" });
    expect(run.verdict).toBe("error");
    expect(run.reason).toMatch(/backend\.protocol: the tree's GET \/xend\/node\/ cannot be forwarded byte for byte/);
    expect(seen).toEqual([]);
  });

  it("a crash in the tree's code is that cell's error with the reason, and the next cell runs", async () => {
    const seen: HttpRequest[] = [];
    const crashed = await runCell(cell, backendTo(xend.target, seen), { profile: standInProfile({ crashAt: "xdefine", sent: [], replies: [] }) as never, wire: "native" });
    expect(crashed.verdict).toBe("error");
    expect(crashed.reason).toMatch(/driver\.crash: .*SIGSEGV/);
    const next = await runCell(cell, backendTo(xend.target, []), { profile: standInProfile({ sent: [], replies: [] }) as never, wire: "native" });
    expect(next.verdict).not.toBe("error");
  });
});
