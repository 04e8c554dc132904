import { describe, expect, it } from "vitest";
import { XendClient, XendRefusal, libvirtPost } from "../harness/xend/client.js";
import type { BackendSession, ControlReply, HttpRequest, HttpResponse } from "../harness/xend/types.js";
import { HarnessError } from "../harness/errors.js";

/** A session that answers from a function and keeps what it was sent. */
function fake(answer: (req: HttpRequest) => Partial<HttpResponse>) {
  const sent: { req: HttpRequest; step: string }[] = [];
  const session: BackendSession = {
    async send(req, step) {
      sent.push({ req, step });
      const a = answer(req);
      return { status: a.status ?? 200, reason: a.reason ?? "OK", headers: a.headers ?? [], body: a.body ?? "" };
    },
    async control(): Promise<ControlReply> {
      throw new HarnessError("backend.unavailable", "no control");
    },
    async end() {},
  };
  return { session, sent, client: new XendClient(session) };
}

async function refusal(p: Promise<unknown>): Promise<XendRefusal> {
  try {
    await p;
  } catch (e) {
    if (e instanceof XendRefusal) return e;
    throw e;
  }
  throw new Error("expected xend to refuse");
}

describe("XendClient requests", () => {
  it("sends libvirt's headers in libvirt's order, no User-Agent or Accept, Content-Length in bytes on POST", async () => {
    const { client, sent } = fake((req) => ({ status: 200, body: req.method === "GET" ? "(domain (name xc-a))" : "" }));
    await client.getDomain("xc-a", "read");
    await client.defineDomain("op=new&config=%28vm%29", "define");
    expect(sent[0].req).toEqual({
      method: "GET",
      path: "/xend/domain/xc-a?detail=1",
      headers: [
        ["Host", "localhost:8000"],
        ["Accept-Encoding", "identity"],
        ["Content-Type", "application/x-www-form-urlencoded"],
      ],
    });
    expect(sent[1].req.method).toBe("POST");
    expect(sent[1].req.path).toBe("/xend/domain/");
    expect(sent[1].req.headers.at(-1)).toEqual(["Content-Length", "22"]);
    expect(sent[1].req.body).toBe("op=new&config=%28vm%29");
    expect(sent.map((s) => s.step)).toEqual(["read", "define"]);
    expect(libvirtPost("/x", "caf\u00e9").headers.at(-1)).toEqual(["Content-Length", "5"]);
    const names = sent.flatMap((s) => s.req.headers.map(([k]) => k.toLowerCase()));
    expect(names).not.toContain("user-agent");
    expect(names).not.toContain("accept");
  });

  it("posts op=start/destroy/delete to /xend/domain/<name>", async () => {
    const { client, sent } = fake(() => ({ status: 202 }));
    await client.startDomain("xc-a", "start");
    await client.destroyDomain("xc-a", "destroy");
    await client.deleteDomain("xc-a", "delete");
    expect(sent.map((s) => `${s.req.path} ${s.req.body}`)).toEqual([
      "/xend/domain/xc-a op=start",
      "/xend/domain/xc-a op=destroy",
      "/xend/domain/xc-a op=delete",
    ]);
  });
});

describe("XendClient judges replies as libvirt does", () => {
  it("getNode reads xend_config_format, and 1 when missing", async () => {
    const a = fake(() => ({ body: "(node (system Linux) (xend_config_format 4))" }));
    expect((await a.client.getNode("node")).xendConfigFormat).toBe(4);
    const b = fake(() => ({ body: "(node (system Linux) (xen_major 3))" }));
    expect((await b.client.getNode("node")).xendConfigFormat).toBe(1);
  });

  it("getDomain: the body and its tree on 200, null on 404", async () => {
    const a = fake(() => ({ body: "(domain (name xc-a) (image (hvm (localtime 1))))\n''" }));
    const d = await a.client.getDomain("xc-a", "read");
    expect(d?.raw).toBe("(domain (name xc-a) (image (hvm (localtime 1))))\n''");
    expect(d?.sxpr).toEqual(["domain", ["name", "xc-a"], ["image", ["hvm", ["localtime", "1"]]]]);
    const b = fake(() => ({ status: 404, reason: "Not Found", body: "<Fault 3: 'xc-a'>" }));
    expect(await b.client.getDomain("xc-a", "read")).toBeNull();
  });

  it("getDomain: xend 3.2's empty 500 for an unknown domain is an error with its status, as libvirt logs it", async () => {
    const { client } = fake(() => ({ status: 500, reason: "Internal Server Error", body: "" }));
    const e = await refusal(client.getDomain("xc-a", "read"));
    expect(e.code).toBe("backend.xend");
    expect(e.status).toBe(500);
    expect(e.message).toBe("500 status from xen daemon: /xend/domain/xc-a?detail=1:(null)");
  });

  it("GET: 404 outside /xend/domain/ is an error", async () => {
    const { client } = fake(() => ({ status: 404, body: "nope" }));
    const e = await refusal(client.getNode("node"));
    expect(e.message).toBe("404 status from xen daemon: /xend/node/:nope");
  });

  it("POST: status >= 300 is an error carrying xend's (xend.err ...) text", async () => {
    const body = "(xend.err 'Error creating domain: device model not found')";
    const { client } = fake(() => ({ status: 500, reason: "Request failed: new", body }));
    const e = await refusal(client.defineDomain("op=new&config=%28vm%29", "define"));
    expect(e.code).toBe("backend.xend");
    expect(e.status).toBe(500);
    expect(e.message).toBe(`xend_post: error from xen daemon: ${body}`);
  });

  it("POST: 202 with 'failed' in the body is an error; 202 without it is fine", async () => {
    const bad = fake(() => ({ status: 202, body: "start failed" }));
    expect((await refusal(bad.client.startDomain("xc-a", "start"))).message).toBe("xend_post: error from xen daemon: start failed");
    const ok = fake(() => ({ status: 202, body: "" }));
    expect((await ok.client.startDomain("xc-a", "start")).status).toBe(202);
  });

  it("POST: 200-202 with 'xend.err' in the body is an error; 'failed' with 200 is not", async () => {
    for (const status of [200, 201, 202]) {
      const f = fake(() => ({ status, body: "(xend.err 'no')" }));
      expect((await refusal(f.client.defineDomain("op=new", "d"))).status).toBe(status);
    }
    const f = fake(() => ({ status: 200, body: "failed" }));
    expect((await f.client.defineDomain("op=new", "d")).status).toBe(200);
  });

  it("POST: other statuses below 300 are HTTP errors; an empty error body shows as (null)", async () => {
    const f = fake(() => ({ status: 204 }));
    expect((await refusal(f.client.defineDomain("op=new", "d"))).message).toMatch(/HTTP error code 204/);
    const g = fake(() => ({ status: 500, body: "" }));
    expect((await refusal(g.client.defineDomain("op=new", "d"))).message).toBe("xend_post: error from xen daemon: (null)");
  });

  it("a 200 GET with a body that is not an S-expression is a protocol fault, not a refusal", async () => {
    const { client } = fake(() => ({ body: "" }));
    await expect(client.getNode("node")).rejects.toMatchObject({ code: "backend.protocol" });
  });
});
