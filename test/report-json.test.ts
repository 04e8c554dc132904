import { describe, expect, it } from "vitest";
import { renderJson } from "../harness/report/index.js";
import { sampleReport } from "./fakes/report-fixture.js";

describe("JSON report (the DESIGN.md contract)", () => {
  it("prints one object with cells[] and support[] carrying the contract's fields", async () => {
    const obj = JSON.parse(renderJson(await sampleReport()));
    expect(obj.cells.length).toBe(12);
    for (const c of obj.cells) {
      for (const k of ["id", "xend", "libvirt", "scenario", "verdict", "outcome"]) expect(typeof c[k]).toBe("string");
      expect(Array.isArray(c.observation.localtimePaths)).toBe(true);
      expect(Array.isArray(c.observation.rtcTimeoffsetPaths)).toBe(true);
      expect(c.observation).toHaveProperty("clockBefore");
      expect(c.observation).toHaveProperty("clockAfter");
    }
    const lt = obj.cells.find((c: { id: string }) => c.id === "4.1.2/0.9.11/hvm-localtime-guest-sets-rtc-restart");
    expect(lt).toMatchObject({ xend: "4.1.2", libvirt: "0.9.11", scenario: "hvm-localtime-guest-sets-rtc-restart", verdict: "preserved", outcome: "pass" });
    expect(lt.observation.localtimePaths).toEqual([{ path: "/domain/localtime", value: "1" }]);
    expect(lt.observation.clockBefore.xml).toBe("<clock offset='localtime'/>");
    expect(lt.observation.clockAfter.meaning).toEqual({ base: "localtime", adjustment: 0, reset: false });
    const rej = obj.cells.find((c: { id: string }) => c.id === "3.2/0.9.11/hvm-var");
    expect(rej).toMatchObject({ verdict: "rejected", outcome: "xfail" });
    expect(rej.expectation.fixedBy).toBe("11ec6bd89");
    expect(rej.observation.clockAfter).toBeNull();
    expect(obj.support).toContainEqual(expect.objectContaining({ libvirt: "0.9.11", xend: "3.2", status: "unsafe" }));
    expect(obj.support).toContainEqual(expect.objectContaining({ libvirt: "0.9.11", xend: "4.1.2", status: "partial" }));
    for (const s of obj.support) expect(Object.keys(s.counts).sort()).toEqual(["changed", "error", "preserved", "rejected", "skipped"]);
    expect(obj.summary).toMatchObject({ cells: 12, sandbox: 12 });
    expect(obj.obsoleteGoldens).toEqual(["fixtures/golden/9.9/x/y.txt"]);
  });
});
