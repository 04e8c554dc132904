/**
 * Small in-test fakes for the runner's unit tests: a Backend that answers like a tiny xend over the
 * HTTP interface (node, define, start, read, destroy, delete) and a Profile with a toy clock mapping.
 * They exist only for tests; `run` always uses the real profiles and backends.
 */
import { HarnessError } from "../../harness/errors.js";
import type { Profile } from "../../harness/libvirt/index.js";
import { parseMatrix, expandCells, type Cell } from "../../harness/matrix/index.js";
import type { Backend, BackendSession, ControlReply, ControlStep, EffectiveClock, HttpRequest, HttpResponse } from "../../harness/xend/types.js";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface FakeXendOptions {
  /** What GET returns for a stored config (default: the config itself, as `(domain ...)`). */
  readBack?: (config: string) => string;
  /** Refuse the define with this xend error body. */
  refuseDefine?: string;
  /** Throw this backend fault on the n-th request of a cell whose id contains `faultIn`. */
  faultIn?: string;
  guestControl?: boolean;
  clock?: Partial<EffectiveClock>;
  concurrency?: number;
  xendConfigFormat?: number;
}

export class FakeXend implements Backend {
  readonly kind = "sandbox" as const;
  readonly xendVersion: string;
  readonly concurrency: number;
  readonly guestControl: boolean;
  readonly requests: { cell: string; step: string; req: HttpRequest }[] = [];
  readonly controls: { cell: string; step: string; ctl: ControlStep }[] = [];
  readonly domains = new Map<string, string>();
  /** Domains started so far: the fake hypervisor's set_time_offset calls appear only after a start. */
  readonly started = new Set<string>();
  closed = 0;
  running = 0;
  maxRunning = 0;
  constructor(
    xendVersion = "4.1.2",
    private readonly o: FakeXendOptions = {},
  ) {
    this.xendVersion = xendVersion;
    this.concurrency = o.concurrency ?? 4;
    this.guestControl = o.guestControl ?? true;
  }
  provenance() {
    return { xendVersion: this.xendVersion, tree: "fake", commit: "unknown", tz: "ORC-2" };
  }
  async close() {
    this.closed++;
  }
  async open(cellId: string): Promise<BackendSession> {
    const self = this;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    let n = 0;
    const reply = (status: number, body = "", reason = "OK"): HttpResponse => ({ status, reason, headers: [], body });
    return {
      async send(req: HttpRequest, step: string): Promise<HttpResponse> {
        self.requests.push({ cell: cellId, step, req });
        n++;
        await Promise.resolve();
        if (self.o.faultIn && cellId.includes(self.o.faultIn) && step.includes("define")) throw new HarnessError("backend.connect", "connection refused (fake)");
        if (req.method === "GET" && req.path === "/xend/node/") return reply(200, `(node (system Linux) (xend_config_format ${self.o.xendConfigFormat ?? 4}))`);
        if (req.method === "POST" && req.path === "/xend/domain/") {
          if (self.o.refuseDefine) return reply(500, `(xend.err '${self.o.refuseDefine}')`, "Internal Server Error");
          const form = new URLSearchParams(req.body ?? "");
          const config = form.get("config") ?? "";
          const name = /\(name ([^)]+)\)/.exec(config)?.[1] ?? "?";
          self.domains.set(name, config);
          return reply(200);
        }
        const m = /^\/xend\/domain\/([^?]+)(\?detail=1)?$/.exec(req.path);
        if (m) {
          const name = decodeURIComponent(m[1]);
          const cfg = self.domains.get(name);
          if (req.method === "GET") {
            if (!cfg) return reply(404, "<Fault 3: 'name'>", "Not Found");
            return reply(200, (self.o.readBack ?? ((c: string) => c.replace(/^\(vm/, "(domain")))(cfg));
          }
          const op = new URLSearchParams(req.body ?? "").get("op");
          if (op === "delete") self.domains.delete(name);
          if (op === "start") self.started.add(name);
          return reply(op === "start" ? 202 : 200, "", op === "start" ? "Accepted" : "OK");
        }
        return reply(404, "", "Not Found");
      },
      async control(ctl: ControlStep, step: string): Promise<ControlReply> {
        self.controls.push({ cell: cellId, step, ctl });
        if (ctl.kind === "effective-clock") {
          const clock: EffectiveClock = { setTimeOffsetCalls: [], vmRtcTimeoffset: null, dmLocaltime: null, tz: "ORC-2", hostUtcOffset: 7200, ...self.o.clock };
          if (!self.started.has(ctl.domain)) clock.setTimeOffsetCalls = [];
          return { ok: true, clock };
        }
        return { ok: true, detail: "done" };
      },
      async end() {
        self.running--;
      },
    };
  }
}

/**
 * A toy profile: format writes `(vm (name N) (localtime 0|1))` from the XML clock (variable → error),
 * parse shows `<clock offset='localtime'/>` when any localtime element is 1.
 */
export function toyProfile(opts: { warn?: string } = {}): Profile {
  return {
    id: "toy",
    first: "0.0.1",
    last: "0.0.1",
    summary: "toy",
    wire: "uri",
    format(xml: string) {
      const name = /<name>([^<]+)<\/name>/.exec(xml)?.[1] ?? "x";
      const offset = /<clock offset='([a-z]+)'/.exec(xml)?.[1] ?? "utc";
      if (offset !== "utc" && offset !== "localtime") throw new HarnessError("libvirt.unsupported", `unsupported clock offset '${offset}'`);
      return { sxpr: `(vm (name ${name}) (localtime ${offset === "localtime" ? 1 : 0}))`, warnings: opts.warn ? [opts.warn] : [] };
    },
    parse(sxpr: string) {
      const lt = /\(localtime 1\)/.test(sxpr);
      const name = /\(name ([^)]+)\)/.exec(sxpr)?.[1] ?? "x";
      return { xml: `<domain type='xen'>\n  <name>${name}</name>\n  <clock offset='${lt ? "localtime" : "utc"}'/>\n</domain>\n`, warnings: [] };
    },
  };
}

/** A temp project root with domain files and a matrix text; returns cells of it. */
export function tempProject(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-test-"));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

export function domainXml(name: string, clock: string, type: "hvm" | "linux" = "hvm", cmdline?: string): string {
  return `<domain type='xen'>
  <name>${name}</name>
  <uuid>00000000-0000-0000-0000-000000000000</uuid>
  <memory>262144</memory>
  <vcpu>1</vcpu>
  <os>
    <type>${type}</type>${cmdline !== undefined ? `\n    <cmdline>${cmdline}</cmdline>` : ""}
  </os>
  ${clock}
</domain>
`;
}

/** Cells of a small matrix whose libvirt versions are real ones (the toy profile is injected by the test). */
export function cellsOf(matrixYaml: string, files: Record<string, string>): Cell[] {
  const root = tempProject(files);
  const m = parseMatrix(matrixYaml, { file: path.join(root, "m.yaml"), root });
  return expandCells(m);
}
