/**
 * An in-test fake xend for the HTML page and shard/merge tests. It is NOT xend and its answers are
 * NOT results: it exists only so the page mechanics and the shard bookkeeping can be exercised over
 * every support status while fixtures/recordings/ is empty. Rules, by xend version:
 *  - every version stores the config of `op=new` and returns it on GET (as `(domain ...)`);
 *  - "3.4.3" drops `(localtime 1)` from what it returns (so localtime scenarios come back changed);
 *  - "3.2" cannot imitate the guest (guest-step scenarios are skipped) and refuses to define the
*    hvm-utc scenario with a body full of HTML-looking text (to test escaping);
 *  - "4.1.2" cannot be reached at all for libvirt 1.3.1 (a connection fault: every such cell errors).
 */
import { HarnessError } from "../harness/errors.js";
import type { Backend, BackendSession, ControlReply, ControlStep, EffectiveClock, HttpRequest, HttpResponse } from "../harness/xend/types.js";

export const HOSTILE = `<img src=x onerror="document.title='pwned'"> & <script>alert('x')</script> "quoted"`;

export class FakeXend implements Backend {
  readonly kind = "sandbox" as const;
  readonly concurrency = 4;
  readonly guestControl: boolean;
  readonly requests: string[] = [];
  private readonly domains = new Map<string, string>();
  constructor(readonly xendVersion: string) {
    this.guestControl = xendVersion !== "3.2";
  }
  provenance() {
    return { xendVersion: this.xendVersion, tree: "in-test fake (not xend)", commit: "unknown", tz: "UTC0" };
  }
  async close() {}
  async open(cellId: string): Promise<BackendSession> {
    if (this.xendVersion === "4.1.2" && cellId.includes("/1.3.1/")) throw new HarnessError("backend.connect", "connection refused (in-test fake)");
    const reply = (status: number, body = "", reason = "OK"): HttpResponse => ({ status, reason, headers: [["Content-Type", "text/plain"]], body });
    const started = new Set<string>();
    return {
      send: async (req: HttpRequest): Promise<HttpResponse> => {
        this.requests.push(`${req.method} ${req.path}`);
        if (req.method === "GET" && req.path === "/xend/node/") return reply(200, "(node (system Linux) (xend_config_format 4))");
        if (req.method === "POST" && req.path === "/xend/domain/") {
          const body = req.body ?? "";
          const config = decodeURIComponent((/(?:^|&)config=([^&]*)/.exec(body)?.[1] ?? "").replace(/\+/g, " "));
          const name = /\(name '?([^)'\s]+)'?\)/.exec(config)?.[1] ?? "?";
          if (this.xendVersion === "3.2" && cellId.endsWith("/hvm-utc")) return reply(500, `(xend.err "${HOSTILE}")`, "Internal Server Error");
          this.domains.set(name, config);
          return reply(200);
        }
        const m = /^\/xend\/domain\/([^?]+)(\?detail=1)?$/.exec(req.path);
        if (!m) return reply(404, "", "Not Found");
        const name = decodeURIComponent(m[1]);
        const cfg = this.domains.get(name);
        if (req.method === "GET") {
          if (!cfg) return reply(404, "<Fault 3: 'name'>", "Not Found");
          let out = cfg.replace(/^\(vm/, "(domain");
          if (this.xendVersion === "3.4.3") out = out.replace(/\(localtime 1\)/g, "");
          return reply(200, out);
        }
        const op = /(?:^|&)op=([a-z]+)/.exec(req.body ?? "")?.[1];
        if (op === "delete" || req.method === "DELETE") this.domains.delete(name);
        if (op === "start") started.add(name);
        return reply(op === "start" ? 202 : 200, "", op === "start" ? "Accepted" : "OK");
      },
      control: async (ctl: ControlStep): Promise<ControlReply> => {
        if (!this.guestControl) throw new HarnessError("backend.unavailable", "this fake cannot imitate the guest");
        if (ctl.kind === "effective-clock") {
          const clock: EffectiveClock = { setTimeOffsetCalls: started.has(ctl.domain) ? [0] : [], vmRtcTimeoffset: null, dmLocaltime: false, tz: "UTC0", hostUtcOffset: 0 };
          return { ok: true, clock };
        }
        return { ok: true, detail: "done (fake)" };
      },
      end: async () => {},
    };
  }
}
