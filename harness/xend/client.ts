/**
 * A xend client that behaves like libvirt's xend driver (src/xen/xend_internal.c, 0.9.x): the same
 * request headers in the same order, the same judgement of replies. It speaks through a
 * BackendSession, so the same code drives the recorded, sandbox, container and live backends.
 *
 * Judgement of replies, as libvirt does it:
 * - GET: 200-202 are success; 404 under `/xend/domain/` means "no such domain" (no error); any
 *   other status >= 300 is an error "<status> status from xen daemon: <path>:<body>"; other statuses
 *   are HTTP errors.
 * - POST: status >= 300, 202 with `failed` in the body, 200-202 with `xend.err` in the body are
 *   errors "xend_post: error from xen daemon: <body>"; other statuses outside 200-202 are HTTP errors.
 * These are xend refusing (HarnessError `backend.xend`, an XendRefusal carrying status and body).
 */
import { HarnessError } from "../errors.js";
import { readSxpr, valueAt } from "../sxp/index.js";
import type { Sx } from "../sxp/index.js";
import type { BackendSession, HttpRequest, HttpResponse } from "./types.js";

/** The header lines libvirt sends with every request, in its order (no User-Agent, no Accept). */
export const LIBVIRT_HEADERS: readonly (readonly [string, string])[] = [
  ["Host", "localhost:8000"],
  ["Accept-Encoding", "identity"],
  ["Content-Type", "application/x-www-form-urlencoded"],
];

/** xend said no: an HTTP error status or an error body. `code` is always `backend.xend`. */
export class XendRefusal extends HarnessError {
  readonly status: number;
  readonly body: string;
  readonly path: string;
  constructor(message: string, info: { status: number; body: string; path: string }) {
    super("backend.xend", message);
    this.status = info.status;
    this.body = info.body;
    this.path = info.path;
  }
}

/** A GET request exactly as libvirt's xend_get writes it. */
export function libvirtGet(path: string): HttpRequest {
  return { method: "GET", path, headers: LIBVIRT_HEADERS.map(([k, v]) => [k, v] as [string, string]) };
}

/** A POST request exactly as libvirt's xend_post writes it; `formBody` is already wire-encoded. */
export function libvirtPost(path: string, formBody: string): HttpRequest {
  const headers = LIBVIRT_HEADERS.map(([k, v]) => [k, v] as [string, string]);
  headers.push(["Content-Length", String(Buffer.byteLength(formBody, "utf8"))]);
  return { method: "POST", path, headers, body: formBody };
}

/** libvirt's NULLSTR(content): an empty reply body is a NULL buffer there. */
function shown(body: string): string {
  return body === "" ? "(null)" : body;
}

/** strtol(value, NULL, 10): leading white space, optional sign, digits; 0 when none. */
function strtol(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

export interface NodeInfo {
  /** `node/xend_config_format`; 1 when missing (xend before 3.0.3), as libvirt assumes. */
  xendConfigFormat: number;
  sxpr: Sx;
  raw: string;
}

export interface DomainInfo {
  /** The reply body as xend sent it. */
  raw: string;
  /** The body as libvirt reads it (string2sexpr: first expression, libvirt's quoting rules). */
  sxpr: Sx;
}

/** Field names libvirt's ops use; all are plain letters, so every wire encoding leaves them alone. */
export type DomainOp = "start" | "destroy" | "delete" | "unpause" | "pause" | "wait_for_devices";

/** getNode's reading of a node answer, by its text. */
const nodes = new Map<string, { xendConfigFormat: number; sxpr: Sx }>();

/** Forget the remembered node answers (the bench: each repetition starts as a new process would). */
export function forgetNodes(): void {
  nodes.clear();
}

export class XendClient {
  constructor(private readonly session: BackendSession) {}

  /** GET with libvirt's judgement; returns the reply (404 under /xend/domain/ included). */
  async get(path: string, step: string): Promise<HttpResponse> {
    const res = await this.session.send(libvirtGet(path), step);
    if (res.status >= 200 && res.status <= 202) return res;
    if (res.status === 404 && path.startsWith("/xend/domain/")) return res;
    if (res.status >= 300)
      throw new XendRefusal(`${res.status} status from xen daemon: ${path}:${shown(res.body)}`, {
        status: res.status,
        body: res.body,
        path,
      });
    throw new XendRefusal(`HTTP error code ${res.status} from xen daemon for GET ${path}`, {
      status: res.status,
      body: res.body,
      path,
    });
  }

  /** POST an already wire-encoded form body with libvirt's xend_post rules. */
  async post(path: string, formBody: string, step: string): Promise<HttpResponse> {
    const res = await this.session.send(libvirtPost(path, formBody), step);
    const info = { status: res.status, body: res.body, path };
    const refuse = () => new XendRefusal(`xend_post: error from xen daemon: ${shown(res.body)}`, info);
    if (res.status >= 300) throw refuse();
    if (res.status === 202 && res.body.includes("failed")) throw refuse();
    if (res.status >= 200 && res.status <= 202 && res.body.includes("xend.err")) throw refuse();
    if (res.status < 200 || res.status > 202)
      throw new XendRefusal(`HTTP error code ${res.status} from xen daemon for POST ${path}`, info);
    return res;
  }

  /** `GET /xend/node/` → xend_config_format (libvirt's xend_detect_config_version). */
  async getNode(step: string): Promise<NodeInfo> {
    const path = "/xend/node/";
    const res = await this.get(path, step);
    // Every cell of a xend asks its node first and gets the same answer: read once per text (a pure
    // function of it; the tree is shared and never changed).
    let known = nodes.get(res.body);
    if (!known) {
      const sxpr = this.parseBody(res.body, path);
      const v = valueAt(sxpr, "/node/xend_config_format");
      known = { xendConfigFormat: v === undefined ? 1 : strtol(v), sxpr };
      if (nodes.size >= 64) nodes.clear();
      nodes.set(res.body, known);
    }
    return { ...known, raw: res.body };
  }

  /**
   * `GET /xend/domain/<name>?detail=1`; null when xend says 404 (no such domain). xend 3.2.x answers
   * an unknown domain with an empty 500, which libvirt logs as an error: that is an XendRefusal with
   * status 500, as libvirt sees it.
   */
  async getDomain(name: string, step: string): Promise<DomainInfo | null> {
    const path = `/xend/domain/${name}?detail=1`;
    const res = await this.get(path, step);
    if (res.status === 404) return null;
    return { raw: res.body, sxpr: this.parseBody(res.body, path) };
  }

  /** Define: `POST /xend/domain/` with the caller's encoded `op=new&config=...`. */
  defineDomain(formBody: string, step: string): Promise<HttpResponse> {
    return this.post("/xend/domain/", formBody, step);
  }

  /** Create (transient): `POST /xend/domain/` with the caller's encoded `op=create&config=...`. */
  createDomain(formBody: string, step: string): Promise<HttpResponse> {
    return this.post("/xend/domain/", formBody, step);
  }

  /** `POST /xend/domain/<name>` with `op=<op>` (libvirt's xend_op). */
  domainOp(name: string, op: DomainOp, step: string): Promise<HttpResponse> {
    return this.post(`/xend/domain/${name}`, `op=${op}`, step);
  }

  startDomain(name: string, step: string): Promise<HttpResponse> {
    return this.domainOp(name, "start", step);
  }
  destroyDomain(name: string, step: string): Promise<HttpResponse> {
    return this.domainOp(name, "destroy", step);
  }
  deleteDomain(name: string, step: string): Promise<HttpResponse> {
    return this.domainOp(name, "delete", step);
  }

  private parseBody(body: string, path: string): Sx {
    if (body.trim() === "")
      throw new HarnessError("backend.protocol", `xend answered GET ${path} with an empty body where an S-expression was expected`);
    try {
      return readSxpr(body, { dialect: "libvirt", strict: false, file: `GET ${path}` });
    } catch (e) {
      const msg = e instanceof HarnessError ? e.oneLine() : String(e);
      throw new HarnessError("backend.protocol", `xend's reply to GET ${path} is not an S-expression: ${msg}`, { cause: e });
    }
  }
}
