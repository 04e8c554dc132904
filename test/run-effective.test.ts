import { describe, expect, it } from "vitest";
import { effectiveOffset, intendedOffset } from "../harness/run/index.js";
import type { EffectiveClock } from "../harness/xend/types.js";

const HOST = 7200; // facts/xend.md ran xend with TZ UTC+2
const clock = (c: Partial<EffectiveClock>): EffectiveClock => ({ setTimeOffsetCalls: [], vmRtcTimeoffset: null, dmLocaltime: null, tz: "ORC-2", hostUtcOffset: HOST, ...c });

describe("effective clock rule (facts/xend.md table 2)", () => {
  it("a set_time_offset call gives the offset; the last call of the start wins", () => {
    // 3.4.x HVM localtime 1: set 7200, /vm 0, qemu-dm -localtime
    expect(effectiveOffset(clock({ setTimeOffsetCalls: [7200], vmRtcTimeoffset: "0", dmLocaltime: true }), "hvm").utcOffset).toBe(7200);
    // 3.4.x HVM localtime 1 + rtc 3600: set 10800
    expect(effectiveOffset(clock({ setTimeOffsetCalls: [10800], vmRtcTimeoffset: "3600", dmLocaltime: true }), "hvm").utcOffset).toBe(10800);
    expect(effectiveOffset(clock({ setTimeOffsetCalls: [3600, -60] }), "pv").utcOffset).toBe(-60);
  });

  it("a call without an offset (3.2.0-rc6) means the host's offset", () => {
    const e = effectiveOffset(clock({ setTimeOffsetCalls: [null] }), "pv");
    expect(e.utcOffset).toBe(HOST);
    expect(e.rule).toMatch(/without an offset/);
  });

  it("HVM without a call: qemu-dm applies /vm/<uuid>/rtc/timeoffset; -localtime adds nothing", () => {
    // 3.2.2 HVM localtime 1: no call, /vm 7200, -localtime: local time, not twice
    expect(effectiveOffset(clock({ vmRtcTimeoffset: "7200", dmLocaltime: true }), "hvm").utcOffset).toBe(7200);
    // 3.2.2 HVM top 1, image 0 ('0' counts as on): /vm 7200, no -localtime → still local time
    expect(effectiveOffset(clock({ vmRtcTimeoffset: "7200", dmLocaltime: false }), "hvm").utcOffset).toBe(7200);
    // 4.1.2 HVM (localtime 0): no call, /vm 0 → UTC
    expect(effectiveOffset(clock({ vmRtcTimeoffset: "0", dmLocaltime: false }), "hvm").utcOffset).toBe(0);
    // 3.2.2 HVM with neither key: no /vm key → 0
    expect(effectiveOffset(clock({}), "hvm").utcOffset).toBe(0);
  });

  it("only the calls of this start count (the backend's list is cumulative)", () => {
    const c = clock({ setTimeOffsetCalls: [7200], vmRtcTimeoffset: "0" });
    expect(effectiveOffset(c, "hvm", []).utcOffset).toBe(0);
  });

  it("PV without a call runs on the hypervisor's UTC", () => {
    expect(effectiveOffset(clock({ vmRtcTimeoffset: "3600" }), "pv").utcOffset).toBe(0);
  });

  it("intent: utc 0, localtime host offset, variable base + adjustment, timezone unknown", () => {
    expect(intendedOffset({ base: "utc", adjustment: 0, reset: false }, HOST)).toBe(0);
    expect(intendedOffset({ base: "localtime", adjustment: 0, reset: true }, HOST)).toBe(HOST);
    expect(intendedOffset({ base: "utc", adjustment: 3600, reset: false }, HOST)).toBe(3600);
    expect(intendedOffset({ base: "localtime", adjustment: -7200, reset: false }, HOST)).toBe(0);
    expect(intendedOffset({ base: "timezone", adjustment: 0, reset: false, timezone: "Europe/Berlin" }, HOST)).toBeNull();
  });
});
