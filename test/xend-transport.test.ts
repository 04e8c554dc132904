import { afterEach, describe, expect, it } from "vitest";
import * as net from "node:net";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { exchange, parseTarget, serializeRequest, type XendTarget } from "../harness/xend/transport.js";
import type { HttpRequest } from "../harness/xend/types.js";
import { HarnessError } from "../harness/errors.js";

type Handler = (sock: net.Socket, request: string) => void;

const servers: net.Server[] = [];
const tmpDirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A loopback server that waits for a whole request head (+ Content-Length body) then calls `handler`. */
function serve(handler: Handler, where: "tcp" | "unix" = "tcp"): Promise<{ target: XendTarget; seen: string[] }> {
  const seen: string[] = [];
  const server = net.createServer((sock) => {
    let buf = "";
    let handled = false;
    sock.on("data", (d) => {
      buf += d.toString("utf8");
      const headEnd = buf.indexOf("\r\n\r\n");
      if (handled || headEnd < 0) return;
      const m = /content-length: (\d+)/i.exec(buf.slice(0, headEnd));
      const need = headEnd + 4 + (m ? Number(m[1]) : 0);
      if (Buffer.byteLength(buf) < need) return;
      handled = true;
      seen.push(buf);
      handler(sock, buf);
    });
    sock.on("error", () => {});
  });
  servers.push(server);
  return new Promise((resolve) => {
    if (where === "unix") {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-sock-"));
      tmpDirs.push(dir);
      const p = path.join(dir, "xend-socket");
      server.listen(p, () => resolve({ target: { kind: "unix", path: p }, seen }));
    } else {
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as net.AddressInfo).port;
        resolve({ target: { kind: "tcp", host: "127.0.0.1", port }, seen });
      });
    }
  });
}

const GET: HttpRequest = {
  method: "GET",
  path: "/xend/domain/xc-test?detail=1",
  headers: [
    ["Host", "localhost:8000"],
    ["Accept-Encoding", "identity"],
    ["Content-Type", "application/x-www-form-urlencoded"],
  ],
};

async function caught(p: Promise<unknown>): Promise<HarnessError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HarnessError) return e;
    throw e;
  }
  throw new Error("expected a HarnessError, got a reply");
}

describe("parseTarget", () => {
  it("reads http://host:port, defaults the port to 8000, reads unix:///path", () => {
    expect(parseTarget("http://xenhost:8001")).toEqual({ kind: "tcp", host: "xenhost", port: 8001 });
    expect(parseTarget("http://localhost")).toEqual({ kind: "tcp", host: "localhost", port: 8000 });
    expect(parseTarget("http://[::1]:9000")).toEqual({ kind: "tcp", host: "::1", port: 9000 });
    expect(parseTarget("unix:///var/lib/xend/xend-socket")).toEqual({ kind: "unix", path: "/var/lib/xend/xend-socket" });
  });
  it("refuses other schemes and relative sockets as usage errors", () => {
    for (const bad of ["https://x", "ftp://x", "unix://rel/sock", "http://x:8000/xend", "localhost:8000"]) {
      const e = (() => {
        try {
          parseTarget(bad);
        } catch (err) {
          return err as HarnessError;
        }
        return undefined;
      })();
      expect(e?.code, bad).toBe("input.usage");
      expect(e?.message).toContain(bad);
    }
  });
});

describe("exchange over TCP", () => {
  it("sends the request line, headers in order and body exactly, and parses a normal reply", async () => {
    const { target, seen } = await serve((sock) => {
      sock.end("HTTP/1.1 200 OK\r\nContent-Type: application/sxp\r\nContent-Length: 12\r\n\r\n(domain (a))");
    });
    const body = "op=new&config=%28vm%29";
    const req: HttpRequest = {
      method: "POST",
      path: "/xend/domain/",
      headers: [...GET.headers, ["Content-Length", String(body.length)]],
      body,
    };
    const res = await exchange(target, req);
    expect(res).toEqual({
      status: 200,
      reason: "OK",
      headers: [
        ["Content-Type", "application/sxp"],
        ["Content-Length", "12"],
      ],
      body: "(domain (a))",
    });
    expect(seen[0]).toBe(
      "POST /xend/domain/ HTTP/1.1\r\nHost: localhost:8000\r\nAccept-Encoding: identity\r\n" +
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 22\r\n\r\nop=new&config=%28vm%29",
    );
    expect(serializeRequest(req).toString()).toBe(seen[0]);
  });

  it("reads a reply without Content-Length until the server closes", async () => {
    const { target } = await serve((sock) => {
      sock.write("HTTP/1.1 200 OK\r\nContent-type: application/sxp\r\n\r\n(node ");
      setImmediate(() => sock.end("(xend_config_format 4))"));
    });
    const res = await exchange(target, GET);
    expect(res.status).toBe(200);
    expect(res.body).toBe("(node (xend_config_format 4))");
  });

  it("counts Content-Length in bytes, not characters", async () => {
    const text = "(name 'caf\u00e9')";
    const { target } = await serve((sock) => {
      sock.end(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    });
    expect((await exchange(target, GET)).body).toBe(text);
  });

  it("refuses a Content-Length over libvirt's 256 KiB cap with libvirt's message", async () => {
    const { target } = await serve((sock) => sock.end("HTTP/1.1 200 OK\r\nContent-Length: 262145\r\n\r\n(x)"));
    const e = await caught(exchange(target, GET));
    expect(e.code).toBe("backend.protocol");
    expect(e.message).toBe("Xend returned HTTP Content-Length of 262145, which exceeds maximum of 262144");
  });

  it("caps a body without Content-Length too", async () => {
    const { target } = await serve((sock) => sock.end("HTTP/1.1 200 OK\r\n\r\n" + "x".repeat(300)));
    const e = await caught(exchange(target, GET, { maxBodyBytes: 100 }));
    expect(e.code).toBe("backend.protocol");
    expect(e.message).toMatch(/without Content-Length exceeds the maximum of 100 bytes/);
  });

  it("reports a refused connection as backend.connect", async () => {
    const { target } = await serve(() => {});
    const port = (target as { port: number }).port;
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    const e = await caught(exchange({ kind: "tcp", host: "127.0.0.1", port }, GET));
    expect(e.code).toBe("backend.connect");
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(e.message).toContain("ECONNREFUSED");
  });

  it("reports a connection reset before the reply as backend.connect", async () => {
    const { target } = await serve((sock) => sock.resetAndDestroy());
    const e = await caught(exchange(target, GET));
    expect(e.code).toBe("backend.connect");
    expect(e.message).toContain("connection reset by xend");
    expect(e.message).toContain("ECONNRESET");
  });

  it("never returns a reply when the connection is reset in the middle of the reply", async () => {
    // When the RST arrives while part of the reply is still unread, Linux reports it to the reader as an
    // end of stream, so the fault is seen either as a reset (backend.connect) or as a truncated body.
    const { target } = await serve((sock) => {
      sock.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n(domain", () => sock.resetAndDestroy());
    });
    const e = await caught(exchange(target, GET));
    expect(["backend.connect", "backend.protocol"]).toContain(e.code);
    expect(e.message).toMatch(/reset by xend after \d+ bytes of the reply|truncated reply body: Content-Length is 100 but the connection closed after 7 body bytes/);
  });

  it("times out (injected short timeout) when the server never answers", async () => {
    const { target } = await serve(() => {
      /* keep the connection open, say nothing */
    });
    const e = await caught(exchange(target, GET, { timeoutMs: 50 }));
    expect(e.code).toBe("backend.timeout");
    expect(e.message).toContain("within 50 ms (request sent, no reply yet)");
  });

  it("times out when the reply stops half way", async () => {
    const { target } = await serve((sock) => sock.write("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n(dom"));
    const e = await caught(exchange(target, GET, { timeoutMs: 50 }));
    expect(e.code).toBe("backend.timeout");
    expect(e.message).toMatch(/bytes of the reply received/);
  });

  it("reports a truncated body (closed before Content-Length) as backend.protocol", async () => {
    const { target } = await serve((sock) => sock.end("HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n(domain (name x))"));
    const e = await caught(exchange(target, GET));
    expect(e.code).toBe("backend.protocol");
    expect(e.message).toContain("truncated reply body: Content-Length is 40 but the connection closed after 17 body bytes");
  });

  it("reports a wrong Content-Length (body longer than declared, or not a number)", async () => {
    const s1 = await serve((sock) => sock.end("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n(domain)"));
    const e1 = await caught(exchange(s1.target, GET));
    expect(e1.code).toBe("backend.protocol");
    expect(e1.message).toContain("more bytes than its Content-Length of 3");
    const s2 = await serve((sock) => sock.end("HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n(domain)"));
    const e2 = await caught(exchange(s2.target, GET));
    expect(e2.code).toBe("backend.protocol");
    expect(e2.message).toContain("bad Content-Length 'ten'");
  });

  it("reports a malformed status line and a silent close as backend.protocol", async () => {
    const s1 = await serve((sock) => sock.end("HELLO\r\n\r\n"));
    expect((await caught(exchange(s1.target, GET))).message).toContain("malformed status line 'HELLO'");
    const s2 = await serve((sock) => sock.end());
    expect((await caught(exchange(s2.target, GET))).message).toContain("connection closed without any reply");
  });

  it("returns HTTP error statuses as replies (the client judges them)", async () => {
    const { target } = await serve((sock) => sock.end("HTTP/1.1 404 Not Found\r\nContent-Length: 18\r\n\r\n<Fault 3: 'xc-x'>\n"));
    const res = await exchange(target, GET);
    expect(res.status).toBe(404);
    expect(res.reason).toBe("Not Found");
    expect(res.body).toBe("<Fault 3: 'xc-x'>\n");
  });
});

describe("exchange over a unix socket", () => {
  it("does the same exchange over a unix socket", async () => {
    const { target, seen } = await serve((sock) => sock.end("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n(ok)"), "unix");
    const res = await exchange(target, GET);
    expect(res.body).toBe("(ok)");
    expect(seen[0].startsWith("GET /xend/domain/xc-test?detail=1 HTTP/1.1\r\nHost: localhost:8000\r\n")).toBe(true);
  });

  it("reports a missing socket file as backend.connect naming the path", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-sock-"));
    tmpDirs.push(dir);
    const e = await caught(exchange({ kind: "unix", path: path.join(dir, "none") }, GET));
    expect(e.code).toBe("backend.connect");
    expect(e.message).toContain(`unix:${path.join(dir, "none")}`);
    expect(e.message).toContain("ENOENT");
  });
});
