/**
 * The shipped recordings (made from the real xend of each Xen tree) agree with the tables of
 * ../shared/facts/xend.md. These run on every replay-only machine; test/sandbox.test.ts checks the same
 * facts against the real xend when the trees are present.
 */
import { describe, expect, it } from "vitest";
import { findKey, readSxprAll, type Sx } from "../harness/sxp/index.js";
import { loadRecording, recordingPath, type Recording } from "../harness/xend/index.js";
import { fromRoot, RECORDINGS_DIR } from "../harness/matrix/index.js";

const XENDS = ["3.2", "3.4.3", "4.1.2"] as const;
const LIBVIRTS = ["0.8.7", "0.9.10", "0.9.11", "1.3.1", "0.8.7+rfc-localtime"];

async function rec(cell: string): Promise<Recording> {
  return loadRecording(recordingPath(fromRoot(RECORDINGS_DIR), cell));
}

/** The domain xend returned at a step (`5-read` etc.), as a tree. */
function domainAt(r: Recording, step: RegExp): Sx {
  const e = r.exchanges.find((x) => x.channel === "xend" && step.test(x.step) && x.request.method === "GET" && x.request.path.includes("?detail=1"));
  if (!e || e.channel !== "xend") throw new Error(`${r.cell}: no detail GET at ${step}`);
  return readSxprAll(e.response.body)[0];
}

function clockAt(r: Recording, step: string) {
  const e = r.exchanges.find((x) => x.channel === "control" && x.step === step);
  if (!e || e.channel !== "control" || !e.reply.clock) throw new Error(`${r.cell}: no effective clock at ${step}`);
  return e.reply.clock;
}

const paths = (d: Sx, key: string) => findKey(d, key).map((m) => `${m.path}=${m.value}`);

describe("shipped recordings agree with facts/xend.md", () => {
  it("localtime is never returned at /domain/localtime: PV under image/linux, HVM under image/hvm (table 1, claims 1-3)", async () => {
    let checked = 0;
    for (const x of XENDS)
      for (const l of LIBVIRTS) {
        for (const [scenario, where] of [
          ["pv-localtime", "/domain/image/linux/localtime=1"],
          ["hvm-localtime", "/domain/image/hvm/localtime=1"],
        ] as const) {
          const d = domainAt(await rec(`${x}/${l}/${scenario}`), /read/);
          expect(paths(d, "localtime"), `${x}/${l}/${scenario}`).toEqual([where]);
          checked++;
        }
      }
    expect(checked).toBe(30);
  });

  it("HVM without rtc_timeoffset: xend 3.4 and 4.1 return the default 0, xend 3.2 none (table 1)", async () => {
    // libvirt 0.9.10 sends only (localtime 1), top level and in image/hvm, never rtc_timeoffset.
    expect(paths(domainAt(await rec("3.2/0.9.10/hvm-localtime"), /read/), "rtc_timeoffset")).toEqual([]);
    for (const x of ["3.4.3", "4.1.2"])
      expect(paths(domainAt(await rec(`${x}/0.9.10/hvm-localtime`), /read/), "rtc_timeoffset")).toEqual(["/domain/image/hvm/rtc_timeoffset=0"]);
  });

  it("(localtime 0) counts as on at start in xend 3.2 and 3.4, not in 4.1.2 (table 2, 'localtime 0 counts as on')", async () => {
    // libvirt 0.9.11 sends (localtime 0) for a UTC HVM guest; host TZ is UTC+2.
    const c34 = clockAt(await rec("3.4.3/0.9.11/hvm-utc-start"), "2-start/effective-clock");
    expect(c34.setTimeOffsetCalls).toEqual([7200]);
    const c32 = clockAt(await rec("3.2/0.9.11/hvm-utc-start"), "2-start/effective-clock");
    expect(c32.setTimeOffsetCalls).toEqual([]); // 3.2.2 leaves it to qemu-dm, through /vm
    expect(c32.vmRtcTimeoffset).toBe("7200");
    const c41 = clockAt(await rec("4.1.2/0.9.11/hvm-utc-start"), "2-start/effective-clock");
    expect(c41.setTimeOffsetCalls).toEqual([]);
    expect(c41.vmRtcTimeoffset).toBe("0");
    // PV the same way: 3.2 and 3.4 set the host offset, 4.1.2 makes no call.
    expect(clockAt(await rec("3.4.3/0.9.11/pv-utc-start"), "2-start/effective-clock").setTimeOffsetCalls).toEqual([7200]);
    expect(clockAt(await rec("4.1.2/0.9.11/pv-utc-start"), "2-start/effective-clock").setTimeOffsetCalls).toEqual([]);
    // libvirt 0.9.10 sends no localtime for utc: no call anywhere.
    for (const x of XENDS) expect(clockAt(await rec(`${x}/0.9.10/hvm-utc-start`), "2-start/effective-clock").setTimeOffsetCalls).toEqual([]);
  });

  it("xend 3.2 replaces rtc_timeoffset by the host offset at start when localtime is set; 3.4/4.1 keep it ('3.2 vs later')", async () => {
    // 0.9.11 defines variable adjustment=3600 basis=utc as (rtc_timeoffset 3600)(localtime 0).
    const r32 = await rec("3.2/0.9.11/hvm-guest-sets-rtc");
    expect(clockAt(r32, "2-start/effective-clock").vmRtcTimeoffset).toBe("7200"); // was 0 in the config
    for (const x of ["3.4.3", "4.1.2"]) expect(clockAt(await rec(`${x}/0.9.11/hvm-guest-sets-rtc`), "2-start/effective-clock").vmRtcTimeoffset).toBe("0");
  });

  it("a guest's RTC change comes back at /domain/image/hvm/rtc_timeoffset after poweroff (claim 4, table 3)", async () => {
    for (const x of ["3.4.3", "4.1.2"]) {
      const d = domainAt(await rec(`${x}/0.9.11/hvm-guest-sets-rtc`), /read/);
      expect(paths(d, "rtc_timeoffset")).toEqual(["/domain/image/hvm/rtc_timeoffset=3600"]);
    }
  });

  it("xend's form decoding turns '+' into a space and '%41' into 'A' when libvirt sends the define unescaped (before 0.9.5)", async () => {
    for (const x of XENDS) {
      const old = paths(domainAt(await rec(`${x}/0.8.7/pv-args-plus-percent`), /read/), "args");
      expect(old).toEqual(["/domain/image/linux/args=root=/dev/xvda1 ro console=hvc0 note=a bAc"]);
      const escaped = paths(domainAt(await rec(`${x}/0.9.10/pv-args-plus-percent`), /read/), "args");
      expect(escaped).toEqual(["/domain/image/linux/args=root=/dev/xvda1 ro console=hvc0 note=a+b%41c"]);
    }
  });

  it("an '&' in an unescaped define cuts the config short and xend refuses it (500, Invalid configuration)", async () => {
    for (const x of XENDS) {
      const r = await rec(`${x}/0.8.7/pv-args-special`);
      const define = r.exchanges.find((e) => e.channel === "xend" && e.request.method === "POST" && e.request.body?.startsWith("op=new"));
      expect(define?.channel === "xend" && define.response.status).toBe(500);
      expect(define?.channel === "xend" && define.response.body).toMatch(/xend\.err .*Invalid configuration/);
    }
  });
});
