import { describe, expect, it } from "vitest";
import { HarnessError } from "../harness/errors.js";
import { runCells } from "../harness/run/index.js";
import type { Backend } from "../harness/xend/types.js";
import { cellsOf, domainXml, FakeXend, toyProfile } from "./fakes/run-fakes.js";

const FILES = {
  "d/utc.xml": domainXml("utc", "<clock offset='utc'/>"),
  "d/lt.xml": domainXml("lt", "<clock offset='localtime'/>"),
  "d/var.xml": domainXml("var", "<clock offset='variable' adjustment='3600' basis='utc'/>"),
  "d/pv.xml": domainXml("pv", "<clock offset='utc'/>", "linux", "a+b"),
};

const MATRIX = `name: t
xend: ["4.1.2"]
libvirt: ["0.9.11"]
scenarios:
  - {id: hvm-utc, description: d, domain: d/utc.xml, steps: [define, read]}
  - {id: hvm-lt, description: d, domain: d/lt.xml, steps: [define, read]}
  - {id: hvm-var, description: d, domain: d/var.xml, steps: [define, read]}
  - {id: hvm-start, description: d, domain: d/utc.xml, steps: [define, start, read], checks: [clock, effective-clock]}
  - {id: hvm-rtc, description: d, domain: d/utc.xml, steps: [define, start, {guest-set-rtc: 60}, guest-poweroff, read]}
`;

const profileFor = () => toyProfile();

describe("runCells verdicts", () => {
  it("preserved when the clock comes back with the same meaning", async () => {
    const cells = cellsOf(MATRIX, FILES);
    const be = new FakeXend();
    const [r] = await runCells(cells.filter((c) => c.scenario.id === "hvm-lt"), { backendFor: async () => be, profileFor });
    expect(r.verdict).toBe("preserved");
    expect(r.outcome).toBe("pass");
    expect(r.observation.localtimePaths).toEqual([{ path: "/domain/localtime", value: "1" }]);
    expect(r.observation.clockAfter?.description).toBe("localtime");
    // node GET, define, read, then cleanup delete; the config on the wire is the cell's renamed domain
    expect(be.requests.map((x) => x.step)).toEqual(["0-node", "1-define", "2-read", "cleanup-delete"]);
    expect(be.requests[1].req.body).toContain("config=%28vm%20%28name%20xc%2dhvm%2dlt%2dv0911%29");
    expect(be.domains.size).toBe(0);
  });

  it("each cell's duration comes from the injected clock: from its turn on the backend to its verdict", async () => {
    const cells = cellsOf(MATRIX, FILES).filter((c) => c.scenario.id === "hvm-lt");
    let t = 1000;
    const now = () => (t += 12.5);
    const [r] = await runCells(cells, { backendFor: async () => new FakeXend(), profileFor, now });
    expect(r.durationMs).toBe(12.5);
    const [noBackend] = await runCells(cells, { backendFor: async () => { throw new Error("down"); }, profileFor, now });
    expect(noBackend.durationMs).toBeUndefined();
  });

  it("changed when xend drops what libvirt sent (silently different clock)", async () => {
    const cells = cellsOf(MATRIX, FILES).filter((c) => c.scenario.id === "hvm-lt");
    const be = new FakeXend("4.1.2", { readBack: (c) => c.replace("(localtime 1)", "(image (hvm (localtime 1)))").replace(/^\(vm/, "(domain") });
    const [r] = await runCells(cells, { backendFor: async () => be, profileFor: () => ({ ...toyProfile(), parse: (sx: string) => ({ xml: `<domain><clock offset='${/^\(domain [^(]*\([^)]*\) \(localtime 1\)/.test(sx) ? "localtime" : "utc"}'/></domain>`, warnings: [] }) }) });
    expect(r.verdict).toBe("changed");
    expect(r.reason).toMatch(/intended localtime, libvirt shows <clock offset='utc'\/>/);
    expect(r.observation.localtimePaths).toEqual([{ path: "/domain/image/hvm/localtime", value: "1" }]);
    expect(r.outcome).toBe("fail");
  });

  it("rejected when libvirt refuses: only the node GET is sent, nothing to clean up", async () => {
    const cells = cellsOf(MATRIX, FILES).filter((c) => c.scenario.id === "hvm-var");
    const be = new FakeXend();
    const [r] = await runCells(cells, { backendFor: async () => be, profileFor });
    expect(r.verdict).toBe("rejected");
    expect(r.reason).toMatch(/libvirt refuses.*unsupported clock offset 'variable'/);
    expect(r.observation.libvirt.error).toBe("unsupported clock offset 'variable'");
    expect(be.requests.map((x) => x.step)).toEqual(["0-node"]);
  });

  it("rejected when xend refuses the define (backend.xend), and no delete of a domain never made", async () => {
    const cells = cellsOf(MATRIX, FILES).filter((c) => c.scenario.id === "hvm-utc");
    const be = new FakeXend("4.1.2", { refuseDefine: "Error creating domain: vcpus" });
    const [r] = await runCells(cells, { backendFor: async () => be, profileFor });
    expect(r.verdict).toBe("rejected");
    expect(r.reason).toMatch(/xend refuses.*Error creating domain: vcpus/);
    expect(r.observation.xendError).toMatch(/vcpus/);
    expect(be.requests.map((x) => x.step)).toEqual(["0-node", "1-define"]);
  });

  it("a backend fault is an error of that cell only; the others still run and clean up", async () => {
    const cells = cellsOf(MATRIX, FILES).filter((c) => ["hvm-utc", "hvm-lt", "hvm-start"].includes(c.scenario.id));
    const be = new FakeXend("4.1.2", { faultIn: "hvm-lt" });
    const rs = await runCells(cells, { backendFor: async () => be, profileFor });
    expect(rs.map((r) => [r.scenario, r.verdict])).toEqual([
      ["hvm-utc", "preserved"],
      ["hvm-lt", "error"],
      ["hvm-start", "preserved"],
    ]);
    expect(rs[1].reason).toMatch(/backend\.connect/);
    expect(rs[1].outcome).toBe("fail");
    // the faulted define may have happened: delete is still attempted
    expect(be.requests.filter((x) => x.cell.endsWith("hvm-lt")).map((x) => x.step)).toEqual(["0-node", "1-define", "cleanup-delete"]);
    // the started domain is destroyed, then deleted
    expect(be.requests.filter((x) => x.cell.endsWith("hvm-start")).map((x) => x.step)).toEqual(["0-node", "1-define", "2-start", "3-read", "cleanup-destroy", "cleanup-delete"]);
  });

  it("a backend that cannot start makes its cells errors (also when merely unavailable: never skipped, never green), never a crash", async () => {
    const cells = cellsOf(MATRIX, FILES).slice(0, 2);
    const bad = await runCells(cells, { backendFor: async () => Promise.reject(new HarnessError("backend.connect", "no xend")), profileFor });
    expect(bad.map((r) => r.verdict)).toEqual(["error", "error"]);
    expect(bad[0].backend).toBeNull();
    const un = await runCells(cells, { backendFor: async () => Promise.reject(new HarnessError("backend.unavailable", "no Xen tree")), profileFor });
    expect(un.map((r) => [r.verdict, r.outcome])).toEqual([
      ["error", "fail"],
      ["error", "fail"],
    ]);
    expect(un[0].reason).toMatch(/could not start.*no Xen tree/);
  });

  it("a cell that throws a plain Error inside the profile is an error, others continue", async () => {
    const cells = cellsOf(MATRIX, FILES).slice(0, 2);
    const be = new FakeXend();
    const rs = await runCells(cells, {
      backendFor: async () => be,
      profileFor: () => ({
        ...toyProfile(),
        format: (xml: string, o) => {
          if (xml.includes("hvm-utc")) throw new TypeError("boom");
          return toyProfile().format(xml, o);
        },
      }),
    });
    expect(rs.map((r) => r.verdict)).toEqual(["error", "preserved"]);
    expect(rs[0].reason).toMatch(/internal: boom/);
  });

  it("awaits a profile that answers asynchronously (built profiles), and its rejection is that cell's error", async () => {
    const cells = cellsOf(MATRIX, FILES).slice(0, 2);
    const be = new FakeXend();
    const rs = await runCells(cells, {
      backendFor: async () => be,
      profileFor: () => ({
        ...toyProfile(),
        format: async (xml: string, o) => {
          await new Promise((r) => setImmediate(r));
          if (xml.includes("hvm-utc")) throw new TypeError("driver died");
          return toyProfile().format(xml, o);
        },
        parse: async (sxpr: string, o) => toyProfile().parse(sxpr, o),
      }),
    });
    expect(rs.map((r) => r.verdict)).toEqual(["error", "preserved"]);
    expect(rs[0].reason).toMatch(/driver died/);
  });

  it("skips guest steps when the backend cannot imitate the guest", async () => {
    const cells = cellsOf(MATRIX, FILES).filter((c) => c.scenario.id === "hvm-rtc");
    const be = new FakeXend("4.1.2", { guestControl: false });
    const [r] = await runCells(cells, { backendFor: async () => be, profileFor });
    expect(r.verdict).toBe("skipped");
    expect(r.reason).toMatch(/cannot imitate the guest \(guest-set-rtc, guest-poweroff\)/);
    expect(be.requests).toEqual([]);
  });

  it("a required check the backend cannot decide makes the cell skipped with the reason, never preserved (no xpass)", async () => {
    // A backend without guest control (like a live xend) cannot tell the guest's real clock: the
    // effective-clock check stays undecided although the XML came back right.
    const cells = cellsOf(MATRIX, FILES).filter((c) => c.scenario.id === "hvm-start");
    const be = new FakeXend("4.1.2", { guestControl: false });
    const [r] = await runCells(cells, { backendFor: async () => be, profileFor });
    expect(r.observation.checks.find((c) => c.check === "clock")?.ok).toBe(true);
    expect(r.observation.checks.find((c) => c.check === "effective-clock")?.ok).toBe(null);
    expect(r.verdict).toBe("skipped");
    expect(r.reason).toBe("not decided: effective-clock: the sandbox backend cannot tell the guest's real clock (clock as intended)");
    expect(r.outcome).toBe("skip");
    // With an expectation of a known problem the undecided cell is not an xpass ("update the expectation").
    const expecting = cells.map((c) => ({ ...c, expectation: { cells: c.id, verdict: "changed" as const, reason: "known bug", pos: { file: "m.yaml", line: 1, column: 1 } } }));
    const [x] = await runCells(expecting, { backendFor: async () => new FakeXend("4.1.2", { guestControl: false }), profileFor });
    expect(x.verdict).toBe("skipped");
    expect(x.outcome).toBe("skip");
  });

  it("judges the effective clock at start: UTC intended, the guest got the host's offset → changed", async () => {
    const cells = cellsOf(MATRIX, FILES).filter((c) => c.scenario.id === "hvm-start");
    const be = new FakeXend("4.1.2", { clock: { setTimeOffsetCalls: [7200] } });
    const [r] = await runCells(cells, { backendFor: async () => be, profileFor });
    expect(r.verdict).toBe("changed");
    expect(r.reason).toMatch(/runs at UTC\+7200s \(domain_set_time_offset\(7200\)\), intended UTC\+0s/);
    expect(r.observation.effective[0]).toMatchObject({ step: "2-start", utcOffset: 7200, intendedOffset: 0 });
    // the XML alone looked right
    expect(r.observation.checks.find((c) => c.check === "clock")?.ok).toBe(true);
  });

  it("runs guest steps through control and closes the backend once", async () => {
    const cells = cellsOf(MATRIX, FILES).filter((c) => c.scenario.id === "hvm-rtc");
    const be = new FakeXend();
    const [r] = await runCells(cells, { backendFor: async () => be, profileFor });
    expect(be.controls.map((c) => [c.step, c.ctl.kind])).toEqual([
      ["1-define/clock-baseline", "effective-clock"],
      ["2-start/effective-clock", "effective-clock"],
      ["3-guest-set-rtc", "guest-set-rtc"],
      ["4-guest-poweroff", "guest-poweroff"],
    ]);
    // intent is utc + 60 (the guest's change should stick); the toy xend forgets it → changed
    expect(r.verdict).toBe("changed");
    expect(be.closed).toBe(1);
    expect(be.requests.map((x) => x.step)).toEqual(["0-node", "1-define", "2-start", "5-read", "cleanup-delete"]);
  });

  it("respects the backend's concurrency and keeps results in cell order", async () => {
    const cells = cellsOf(MATRIX, FILES);
    const be = new FakeXend("4.1.2", { concurrency: 2 });
    const seen: number[] = [];
    const rs = await runCells(cells, { backendFor: async () => be, profileFor, onProgress: (p) => seen.push(p.done) });
    expect(be.maxRunning).toBeLessThanOrEqual(2);
    expect(rs.map((r) => r.scenario)).toEqual(cells.map((c) => c.scenario.id));
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it("asks backendFor once per xend version", async () => {
    const cells = cellsOf(MATRIX.replace('xend: ["4.1.2"]', 'xend: ["3.2", "4.1.2"]'), FILES);
    const asked: string[] = [];
    await runCells(cells, {
      backendFor: async (v): Promise<Backend> => {
        asked.push(v);
        return new FakeXend(v);
      },
      profileFor,
    });
    expect(asked.sort()).toEqual(["3.2", "4.1.2"]);
  });
});
