/**
 * A fault-injecting xend stand-in for tests (NOT a recording source: nothing it answers may ever be
 * shipped as a recording). A loopback HTTP server on TCP or a unix socket that speaks enough of
 * xend's API for the runner and the live backend: GET /xend/node/, GET /xend/domain/ (names),
 * POST /xend/domain/ op=new|create, GET /xend/domain/<name>?detail=1, POST /xend/domain/<name>
 * op=start|destroy|shutdown|delete. It can hold foreign domains (not created by the harness), and
 * inject one fault per matching request:
 *
 * reset (mid-reply), reset-early (before any byte), hang (never answers: slower than any timeout), truncate (body shorter than its
 * Content-Length), wrong-length (body longer than its Content-Length), oversize (over libvirt's
 * 256 KiB cap), xend-err (500 with `(xend.err '…')`), not-found (404), empty-500 (xend 3.2's answer
 * for an unknown domain), garbage (200 with binary bytes instead of SXPR), hold (the request is done
 * only when the test calls `release()`: a define slower than any deadline that still creates the
 * domain afterwards), hold-reply (done at once, the reply held until `release()`: a define that
 * created the domain but whose answer comes too late), race-foreign (a foreign domain of that name
 * appears just before the request is done: the "already exists" race of two runs).
 *
 * Several listeners (`addListener()`) share one set of domains, so two harness processes can be told
 * two addresses of one xend and every request and domain says which address it came through (`via`):
 * a delete through one address of a domain created through another is a cross-deletion.
 *
 * Defines and lookups follow xend (XendDomainInfo._checkName): a name held by a domain with another
 * uuid is refused with "VM name '<name>' already exists[ as domain <id>]"; the same name with the same
 * uuid redefines it.
 *
 * It parses requests with plain sockets so that it can break replies in ways an HTTP library won't.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import { parseForm } from "../../harness/xend/index.js";
import { readSxprAll, valueAt, printSxpr, type Sx } from "../../harness/sxp/index.js";

export type FaultKind =
  | "reset"
  | "reset-early"
  | "hang"
  | "truncate"
  | "wrong-length"
  | "oversize"
  | "garbage"
  | "not-found"
  | "empty-500"
  | "xend-err"
  | "hold"
  | "hold-reply"
  | "race-foreign";

export interface FaultRule {
  fault: FaultKind;
  /** xend-err: the message inside `(xend.err '…')`. */
  message?: string;
  /** xend-err: the whole reply body instead (e.g. a message quoted the way real xend's sxp.show does). */
  body?: string;
  method?: "GET" | "POST";
  /** Matches when the path (with query) includes this text. */
  pathIncludes?: string;
  /** Matches a POST whose op is this. */
  op?: string;
  /** Matches requests about this domain (in the path, or the name in a define's config), by its name or its logical name (see logicalName). */
  domain?: string;
  /** Matches requests through this listener only (0: `url`; see addListener). */
  via?: number;
  /** How many matching requests get the fault (default: all). */
  times?: number;
  /** Let this many matching requests through unharmed first (e.g. 1: spare the live backend's name check). */
  skip?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  op?: string;
  /** The domain the request is about (path, or the config's name for a define), as sent. */
  domain?: string;
  /** The same name without a live run's `<run id>-<xend>-` part (see logicalName). */
  logical?: string;
  /** A define: the uuid in its config. */
  uuid?: string;
  /** Which listener it came through (0: `url`, then the order of addListener). */
  via: number;
  fault?: FaultKind;
  /** A delete that removed a domain: the domain as it was. */
  deleted?: StandInDomain;
}

/**
 * The runner's name of a live run's domain: `xc-<run id>-<xend>-<rest>` → `xc-<rest>` (the live
 * backend's naming, harness/live/names.ts, written here independently); other names as they are.
 */
export function logicalName(name: string): string {
  const m = /^xc-[a-z0-9]+-\d+(?:\.\d+)+-(.+)$/.exec(name);
  return m ? `xc-${m[1]}` : name;
}

export interface StandInDomain {
  name: string;
  uuid: string;
  /** The config as defined (SXPR text, `(vm ...)` or `(domain ...)`). */
  config: string;
  state: "defined" | "running";
  foreign: boolean;
  /** Which listener the define came through (foreign domains: none). */
  createdVia?: number;
}

export interface FaultXendOptions {
  /** tcp (127.0.0.1, a free port) or unix (socketPath). */
  listen?: "tcp" | "unix";
  socketPath?: string;
  /** Reported in GET /xend/node/ as xen_major/xen_minor/xen_extra (default 4.1.2); null: not reported at all. */
  version?: string | null;
  /** How an unknown domain is answered: 404 (default) or xend 3.2's empty 500. */
  unknownDomain?: "404" | "empty-500";
  /** Domains that exist before the test (someone else's). */
  foreign?: { name: string; uuid?: string; config?: string }[];
}

export interface FaultXend {
  url: string;
  /** Another address of the same xend (a new loopback TCP port); requests through it have `via` 1, 2, ... */
  addListener(): Promise<string>;
  /** Do the held requests (hold, hold-reply) that `pred` selects (default all); resolves with how many. */
  release(pred?: (r: LoggedRequest) => boolean): number;
  /** The harness's domain (or with `foreign`, someone else's) whose logical name (see logicalName) is `logical`. */
  domainOf(logical: string, o?: { foreign?: boolean }): StandInDomain | undefined;
  requests: LoggedRequest[];
  domains: Map<string, StandInDomain>;
  addFault(rule: FaultRule): void;
  /** Resolves at the first request (from now on) for which `pred` holds. */
  waitFor(pred: (r: LoggedRequest) => boolean): Promise<LoggedRequest>;
  clearFaults(): void;
  close(): Promise<void>;
}

function nodeSxpr(version: string | null): string {
  if (version === null) return `(node (host standin) (release 2.6.32) (machine x86_64) (nr_cpus 2) (total_memory 4096) (free_memory 2048) (xend_config_format 4))`;
  const [major, minor, ...rest] = version.split(".");
  const extra = rest.length ? "." + rest.join(".") : ".0";
  return `(node (host standin) (release 2.6.32) (version "#1 SMP") (machine x86_64) (nr_cpus 2) (xen_major ${major}) (xen_minor ${minor ?? 0}) (xen_extra ${extra}) (xen_caps 'xen-3.0-x86_64 hvm-3.0-x86_64') (total_memory 4096) (free_memory 2048) (xend_config_format 4))`;
}

function reply(status: number, reason: string, body: string | Buffer, extraHead = ""): Buffer {
  const b = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const head = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${b.length}\r\n${extraHead}\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), b]);
}

function headerOf(head: string, name: string): string | undefined {
  for (const line of head.split("\r\n").slice(1)) {
    const i = line.indexOf(":");
    if (i > 0 && line.slice(0, i).trim().toLowerCase() === name) return line.slice(i + 1).trim();
  }
  return undefined;
}

/** `(vm (name x) ...)` as xend shows it in GET detail: `(domain (domid ...) (name x) ... (state ...))`. */
function detailOf(d: StandInDomain): string {
  let tree: Sx;
  try {
    tree = readSxprAll(d.config)[0] ?? ["domain"];
  } catch {
    tree = ["domain", ["name", d.name]];
  }
  const items = Array.isArray(tree) ? tree.slice(1).filter((x) => !(Array.isArray(x) && (x[0] === "uuid" || x[0] === "name"))) : [];
  const out: Sx = ["domain", ["domid", d.state === "running" ? "7" : "-1"], ["name", d.name], ["uuid", d.uuid], ...items, ["state", d.state === "running" ? "-b----" : "------"]];
  return printSxpr(out, { style: "xend" });
}

export async function startFaultXend(opts: FaultXendOptions = {}): Promise<FaultXend> {
  const version = opts.version === undefined ? "4.1.2" : opts.version;
  const unknown = opts.unknownDomain ?? "404";
  const domains = new Map<string, StandInDomain>();
  for (const f of opts.foreign ?? []) {
    const uuid = f.uuid ?? "0f0f0f0f-1111-2222-3333-444444444444";
    domains.set(f.name, { name: f.name, uuid, config: f.config ?? `(vm (name ${f.name}) (uuid ${uuid}) (memory 256) (image (linux (kernel /boot/vmlinuz))))`, state: "running", foreign: true });
  }
  const requests: LoggedRequest[] = [];
  let rules: (FaultRule & { used: number; seen: number })[] = [];
  const listeners: ((r: LoggedRequest) => void)[] = [];
  const sockets = new Set<net.Socket>();

  const unknownReply = () => (unknown === "404" ? reply(404, "Not Found", "") : reply(500, "Internal Server Error", ""));
  const xendErr = (msg: string) => reply(500, "Internal Server Error", `(xend.err '${msg.replace(/'/g, "\\'")}')`);

  const answer = (method: string, path: string, body: string, log: LoggedRequest): Buffer => {
    const pathOnly = path.split("?")[0];
    if (method === "GET" && (pathOnly === "/xend/node/" || pathOnly === "/xend/node")) return reply(200, "OK", nodeSxpr(version));
    if (method === "GET" && (pathOnly === "/xend/domain/" || pathOnly === "/xend/domain")) return reply(200, "OK", `(${[...domains.keys()].join(" ")})`);
    const m = /^\/xend\/domain\/([^/]+)$/.exec(pathOnly);
    if (method === "GET" && m) {
      const d = domains.get(decodeURIComponent(m[1]));
      return d ? reply(200, "OK", detailOf(d)) : unknownReply();
    }
    if (method === "POST" && (pathOnly === "/xend/domain/" || pathOnly === "/xend/domain")) {
      const form = parseForm(body);
      const op = form.get("op")?.[0];
      const config = form.get("config")?.[0] ?? "";
      if (op !== "new" && op !== "create") return xendErr(`Invalid operation ${op}`);
      let tree: Sx | undefined;
      try {
        tree = readSxprAll(config)[0];
      } catch (e) {
        return xendErr(`Error creating domain: ${(e as Error).message}`);
      }
      const name = tree === undefined ? undefined : valueAt(tree, "/vm/name") ?? valueAt(tree, "/domain/name");
      if (!name) return xendErr("Error creating domain: missing name");
      const uuid = (tree && (valueAt(tree, "/vm/uuid") ?? valueAt(tree, "/domain/uuid"))) || "00000000-0000-0000-0000-000000000001";
      const other = domains.get(name);
      if (other && other.uuid !== uuid) return xendErr(`VM name '${name}' already exists${other.state === "running" ? " as domain 7" : ""}`);
      domains.set(name, { name, uuid, config, state: op === "create" ? "running" : "defined", foreign: false, createdVia: log.via });
      return reply(200, "OK", "");
    }
    if (method === "POST" && m) {
      const name = decodeURIComponent(m[1]);
      const d = domains.get(name);
      if (!d) return unknownReply();
      switch (log.op) {
        case "start":
          d.state = "running";
          return reply(200, "OK", "");
        case "destroy":
        case "shutdown":
          d.state = "defined";
          return reply(200, "OK", "");
        case "delete":
          if (d.state === "running") return xendErr(`Domain ${name} is running`);
          domains.delete(name);
          log.deleted = { ...d };
          return reply(200, "OK", "");
        default:
          return xendErr(`Invalid operation ${log.op}`);
      }
    }
    return reply(404, "Not Found", "");
  };

  const ruleFor = (log: LoggedRequest): (FaultRule & { used: number; seen: number }) | undefined => {
    for (const r of rules) {
      if ((r.method && r.method !== log.method) || (r.pathIncludes && !log.path.includes(r.pathIncludes)) || (r.op && r.op !== log.op) || (r.domain && r.domain !== log.domain && r.domain !== log.logical) || (r.via !== undefined && r.via !== log.via))
        continue;
      r.seen++;
      if (r.seen <= (r.skip ?? 0)) continue;
      if (r.times !== undefined && r.used >= r.times) continue;
      return r;
    }
    return undefined;
  };

  const held: { log: LoggedRequest; go: () => void }[] = [];

  const handle = (sock: net.Socket, head: string, body: string, via: number) => {
    const [method = "", path = ""] = head.split("\r\n")[0].split(" ");
    const pathOnly = path.split("?")[0];
    const log: LoggedRequest = { method, path, via };
    if (method === "POST") {
      const form = parseForm(body);
      log.op = form.get("op")?.[0];
      if (pathOnly.startsWith("/xend/domain/") && pathOnly.length > "/xend/domain/".length) log.domain = decodeURIComponent(pathOnly.slice("/xend/domain/".length));
      else {
        try {
          const t = readSxprAll(form.get("config")?.[0] ?? "")[0];
          log.domain = t === undefined ? undefined : valueAt(t, "/vm/name") ?? valueAt(t, "/domain/name");
          log.uuid = t === undefined ? undefined : valueAt(t, "/vm/uuid") ?? valueAt(t, "/domain/uuid");
        } catch {
          /* no name */
        }
      }
    } else if (pathOnly.startsWith("/xend/domain/") && pathOnly.length > "/xend/domain/".length) log.domain = decodeURIComponent(pathOnly.slice("/xend/domain/".length));
    if (log.domain !== undefined) log.logical = logicalName(log.domain);
    requests.push(log);
    const rule = ruleFor(log);
    if (rule) log.fault = rule.fault;
    for (const l of listeners) l(log);
    if (!rule) {
      sock.end(answer(method, path, body, log));
      return;
    }
    rule.used++;
    switch (rule.fault) {
      case "reset":
        // Part of a reply, then a TCP reset (RST on TCP; an abrupt close on a unix socket).
        sock.write("HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n(domain (name ", () => sock.resetAndDestroy());
        return;
      case "reset-early":
        sock.resetAndDestroy(); // a TCP reset before any byte of the reply
        return;
      case "hang":
        return; // never answers; the client's deadline ends it
      case "truncate": {
        const full = "(domain (name half) (memory 256) (image (hvm (localtime 1))))";
        sock.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${full.length}\r\n\r\n`), Buffer.from(full.slice(0, 20))]));
        return;
      }
      case "wrong-length": {
        const full = "(domain (name longer) (memory 256))";
        sock.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n`), Buffer.from(full)]));
        return;
      }
      case "oversize":
        sock.end(reply(200, "OK", "(domain " + "(pad x)".repeat(Math.ceil((300 * 1024) / 7)) + ")"));
        return;
      case "garbage":
        sock.end(reply(200, "OK", Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x22, 0x6e, 0x6f, 0x74, 0x22, 0x3a, 0x20, 0x73, 0x78, 0x70, 0x72, 0x7d, 0x0a])));
        return;
      case "not-found":
        sock.end(reply(404, "Not Found", ""));
        return;
      case "empty-500":
        sock.end(reply(500, "Internal Server Error", ""));
        return;
      case "xend-err":
        sock.end(rule.body !== undefined ? reply(500, "Internal Server Error", rule.body) : xendErr(rule.message ?? "Error creating domain: injected failure"));
        return;
      case "hold":
        held.push({ log, go: () => sock.end(answer(method, path, body, log)) });
        return;
      case "hold-reply": {
        const r = answer(method, path, body, log);
        held.push({ log, go: () => sock.end(r) });
        return;
      }
      case "race-foreign":
        if (log.domain !== undefined && !domains.has(log.domain))
          domains.set(log.domain, { name: log.domain, uuid: "f0f0f0f0-9999-4888-8777-666666666666", config: `(vm (name ${log.domain}))`, state: "defined", foreign: true });
        sock.end(answer(method, path, body, log));
        return;
    }
  };

  const servers: net.Server[] = [];
  const makeServer = (via: number) => net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    let buf = Buffer.alloc(0);
    let done = false;
    sock.on("data", (chunk: Buffer) => {
      if (done) return;
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buf.subarray(0, end).toString("latin1");
      const len = Number(headerOf(head, "content-length") ?? "0");
      if (buf.length - end - 4 < len) return;
      done = true;
      handle(sock, head, buf.subarray(end + 4, end + 4 + len).toString("utf8"), via);
    });
  });
  const server = makeServer(0);
  servers.push(server);

  let url: string;
  if ((opts.listen ?? "tcp") === "unix") {
    const p = opts.socketPath;
    if (!p) throw new Error("fault-xend: unix listening needs socketPath");
    fs.rmSync(p, { force: true });
    await new Promise<void>((res, rej) => server.listen(p, () => res()).once("error", rej));
    url = `unix://${p}`;
  } else {
    await new Promise<void>((res, rej) => server.listen(0, "127.0.0.1", () => res()).once("error", rej));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  return {
    url,
    requests,
    domains,
    addListener: async () => {
      const s = makeServer(servers.length);
      servers.push(s);
      await new Promise<void>((res, rej) => s.listen(0, "127.0.0.1", () => res()).once("error", rej));
      return `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`;
    },
    release: (pred = () => true) => {
      const now = held.filter((h) => pred(h.log));
      for (const h of now) {
        held.splice(held.indexOf(h), 1);
        h.go();
      }
      return now.length;
    },
    domainOf: (logical, o = {}) => [...domains.values()].find((d) => logicalName(d.name) === logical && d.foreign === (o.foreign ?? false)),
    addFault: (r) => rules.push({ ...r, used: 0, seen: 0 }),
    waitFor: (pred) =>
      new Promise<LoggedRequest>((res) => {
        const l = (r: LoggedRequest) => {
          if (!pred(r)) return;
          listeners.splice(listeners.indexOf(l), 1);
          res(r);
        };
        listeners.push(l);
      }),
    clearFaults: () => {
      rules = [];
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((srv) => new Promise<void>((res) => srv.close(() => res()))));
    },
  };
}

/** A loopback TCP address nothing listens on (bound, then closed). */
export async function deadAddress(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
