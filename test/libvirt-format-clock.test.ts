/**
 * The clock rows of facts/libvirt.md §2b (XML → SXPR), per behaviour, plus the 2012 RFC's rows.
 * Each test builds a small domain XML and looks at where `localtime` / `rtc_timeoffset` end up.
 */
import { describe, expect, it } from "vitest";
import { formatDomain } from "../harness/libvirt/convert.js";
import { levelAt } from "../harness/libvirt/releases.js";
import type { Behaviour } from "../harness/libvirt/types.js";
import { findKey, readSxpr } from "../harness/sxp/index.js";
import { refusal as refuse } from "./support/refusal.js";

type Guest = "pv" | "hvm" | "pv-bootloader";

function domainXml(guest: Guest, clock: string | null): string {
  const os =
    guest === "hvm"
      ? "<os><type>hvm</type><loader>/usr/lib/xen/boot/hvmloader</loader><boot dev='hd'/></os>"
      : guest === "pv"
        ? "<os><type>linux</type><kernel>/boot/vmlinuz</kernel></os>"
        : "<bootloader>/usr/bin/pygrub</bootloader><os><type>linux</type></os>";
  return `<domain type='xen'>
  <name>clk</name>
  <uuid>596a5d21-71f4-8fb2-e068-e2386a5c413e</uuid>
  ${os}
  <memory>262144</memory>
  <vcpu>1</vcpu>
  ${clock ?? ""}
  <devices>
    <disk type='file'><source file='/img'/><target dev='${guest === "hvm" ? "hda" : "xvda"}'/></disk>
  </devices>
</domain>`;
}

function sxpr(behaviour: Behaviour, guest: Guest, clock: string | null, v: number): string {
  return formatDomain(domainXml(guest, clock), behaviour, { xendConfigVersion: v }).sxpr;
}

/** Every localtime / rtc_timeoffset element, as `path=value`, in document order. */
function clockPaths(text: string): string[] {
  const tree = readSxpr(text, { dialect: "libvirt" });
  return [...findKey(tree, "localtime"), ...findKey(tree, "rtc_timeoffset")]
    .map((m) => `${m.path.replace(/^\/vm/, "")}=${m.value}`)
    .sort();
}

function refusal(fn: () => unknown): { code: string; message: string } {
  const e = refuse(fn);
  return { code: e.code, message: e.message };
}

describe("0.6.2 (0.8.7) and 0.9.5 (0.9.10): utc/localtime only", () => {
  for (const b of ["0.6.2", "0.9.5"] as const) {
    it(`${b}: utc writes no localtime at all (PV and HVM)`, () => {
      expect(clockPaths(sxpr(b, "pv", "<clock offset='utc'/>", 4))).toEqual([]);
      expect(clockPaths(sxpr(b, "hvm", null, 4))).toEqual([]);
    });
    it(`${b}: PV localtime is a top-level (localtime 1) right after on_crash, before the image`, () => {
      const s = sxpr(b, "pv", "<clock offset='localtime'/>", 2);
      expect(s).toContain("(on_crash 'destroy')(localtime 1)(image (linux ");
      expect(clockPaths(s)).toEqual(["/localtime=1"]);
    });
    it(`${b}: HVM localtime is written at top level and again in image/hvm after (serial …)`, () => {
      const s = sxpr(b, "hvm", "<clock offset='localtime'/>", 1);
      expect(s).toContain("(on_crash 'destroy')(localtime 1)(image (hvm ");
      expect(s).toContain("(serial none)(localtime 1)");
      expect(clockPaths(s)).toEqual(["/image/hvm/localtime=1", "/localtime=1"]);
    });
    it(`${b}: xendConfigVersion plays no part in the clock`, () => {
      for (const v of [1, 2, 3, 4]) {
        expect(clockPaths(sxpr(b, "hvm", "<clock offset='localtime'/>", v))).toEqual(["/image/hvm/localtime=1", "/localtime=1"]);
        expect(clockPaths(sxpr(b, "pv", "<clock offset='localtime'/>", v))).toEqual(["/localtime=1"]);
      }
    });
    for (const offset of ["variable", "timezone"]) {
      it(`${b}: offset='${offset}' is refused`, () => {
        const clock = offset === "timezone" ? "<clock offset='timezone' timezone='Europe/Berlin'/>" : "<clock offset='variable' adjustment='10'/>";
        expect(refusal(() => sxpr(b, "hvm", clock, 4))).toEqual({ code: "libvirt.unsupported", message: `unsupported clock offset '${offset}'` });
      });
    }
  }
  it("0.9.5 (0.9.10) refuses variable even for PV", () => {
    expect(refusal(() => sxpr("0.9.5", "pv", "<clock offset='variable' adjustment='0'/>", 4)).message).toBe("unsupported clock offset 'variable'");
  });
});

describe("before 0.7.7 the offset is a flag, before 0.8.0 timers are not read (clock-offset-enum, clock-timers)", () => {
  const at = (v: string, guest: Guest, clock: string) => formatDomain(domainXml(guest, clock), levelAt(v), { xendConfigVersion: 4 }).sxpr;
  for (const clock of ["<clock offset='variable' adjustment='3600'/>", "<clock offset='timezone' timezone='Europe/Berlin'/>", "<clock offset='LocalTime'/>"]) {
    it(`0.7.6 takes ${clock} as utc; 0.7.7 refuses it`, () => {
      expect(clockPaths(at("0.6.2", "hvm", clock))).toEqual([]);
      expect(clockPaths(at("0.7.6", "hvm", clock))).toEqual([]);
      expect(at("0.7.6", "hvm", clock)).toBe(at("0.7.6", "hvm", "<clock offset='utc'/>"));
      expect(refusal(() => at("0.7.7", "hvm", clock)).code).toMatch(/^libvirt\./);
    });
  }
  it("0.7.6 still reads exactly 'localtime' as localtime", () => {
    expect(clockPaths(at("0.7.6", "hvm", "<clock offset='localtime' adjustment='10'/>"))).toEqual(["/image/hvm/localtime=1", "/localtime=1"]);
  });
  it("an unknown timer is ignored by 0.7.7 and refused from 0.8.0", () => {
    const clock = "<clock offset='utc'><timer name='nosuch'/></clock>";
    expect(clockPaths(at("0.7.7", "hvm", clock))).toEqual([]);
    expect(refusal(() => at("0.8.0", "hvm", clock)).message).toContain("unknown timer name 'nosuch'");
  });
});

describe("0.9.11 (0.9.11–1.3.0)", () => {
  it("config version < 4: utc gives only a top-level (localtime 0) after the image", () => {
    const s = sxpr("0.9.11", "hvm", "<clock offset='utc'/>", 3);
    expect(s).toMatch(/\)\)\(localtime 0\)\(device /);
    expect(clockPaths(s)).toEqual(["/localtime=0"]);
  });
  it("config version < 4: localtime (also with reset) gives only a top-level (localtime 1)", () => {
    for (const clock of ["<clock offset='localtime'/>", "<clock offset='localtime' adjustment='reset'/>"]) {
      expect(clockPaths(sxpr("0.9.11", "hvm", clock, 2))).toEqual(["/localtime=1"]);
      expect(clockPaths(sxpr("0.9.11", "pv", clock, 2))).toEqual(["/localtime=1"]);
    }
  });
  it("config version < 4: variable and timezone are refused", () => {
    expect(refusal(() => sxpr("0.9.11", "hvm", "<clock offset='variable' adjustment='5'/>", 3))).toEqual({
      code: "libvirt.unsupported",
      message: "unsupported clock offset='variable'",
    });
    expect(refusal(() => sxpr("0.9.11", "pv", "<clock offset='timezone' timezone='UTC'/>", 1)).message).toBe("unsupported clock offset='timezone'");
  });
  it("config version 4, HVM variable adjustment=A basis=B: (rtc_timeoffset A)(localtime B) in the image plus a top-level localtime", () => {
    const s = sxpr("0.9.11", "hvm", "<clock offset='variable' adjustment='3600' basis='localtime'/>", 4);
    expect(s).toContain("(rtc_timeoffset 3600)(localtime 1)))(localtime 1)");
    expect(clockPaths(s)).toEqual(["/image/hvm/localtime=1", "/image/hvm/rtc_timeoffset=3600", "/localtime=1"]);
    const u = sxpr("0.9.11", "hvm", "<clock offset='variable' adjustment='-120'/>", 4);
    expect(u).toContain("(rtc_timeoffset -120)(localtime 0)))(localtime 0)");
  });
  it("config version 4: the adjustment is copied into an int", () => {
    const s = sxpr("0.9.11", "hvm", "<clock offset='variable' adjustment='4294967301' basis='utc'/>", 4);
    expect(s).toContain("(rtc_timeoffset 5)(localtime 0)");
  });
  it("config version 4: utc with a numeric adjustment is read as variable with basis utc", () => {
    expect(sxpr("0.9.11", "hvm", "<clock offset='utc' adjustment='60'/>", 4)).toContain("(rtc_timeoffset 60)(localtime 0)))(localtime 0)");
  });
  it("config version 4, HVM utc / localtime without reset: rtc_timeoffset 0", () => {
    expect(sxpr("0.9.11", "hvm", "<clock offset='utc'/>", 4)).toContain("(rtc_timeoffset 0)(localtime 0)))(localtime 0)");
    expect(sxpr("0.9.11", "hvm", "<clock offset='localtime'/>", 4)).toContain("(rtc_timeoffset 0)(localtime 1)))(localtime 1)");
  });
  it("config version 4, HVM with adjustment='reset' is refused", () => {
    for (const offset of ["utc", "localtime"]) {
      expect(refusal(() => sxpr("0.9.11", "hvm", `<clock offset='${offset}' adjustment='reset'/>`, 4))).toEqual({
        code: "libvirt.unsupported",
        message: "unsupported clock adjustment='reset'",
      });
    }
  });
  it("config version 4, HVM timezone is refused", () => {
    expect(refusal(() => sxpr("0.9.11", "hvm", "<clock offset='timezone' timezone='Europe/Berlin'/>", 4)).message).toBe("unsupported clock offset='timezone'");
  });
  it("config version 4, PV utc/localtime (reset ignored): in image/linux and at top level", () => {
    expect(clockPaths(sxpr("0.9.11", "pv", "<clock offset='localtime' adjustment='reset'/>", 4))).toEqual(["/image/linux/localtime=1", "/localtime=1"]);
    expect(clockPaths(sxpr("0.9.11", "pv", "<clock offset='utc'/>", 4))).toEqual(["/image/linux/localtime=0", "/localtime=0"]);
  });
  it("config version 4, PV with a bootloader and no cmdline: an image is made just for the clock", () => {
    expect(sxpr("0.9.11", "pv-bootloader", "<clock offset='localtime'/>", 4)).toContain("(on_crash 'destroy')(image (linux (localtime 1)))(localtime 1)(device ");
  });
  it("config version 4, PV variable / timezone are refused", () => {
    expect(refusal(() => sxpr("0.9.11", "pv", "<clock offset='variable' adjustment='0'/>", 4)).message).toBe("unsupported clock offset='variable'");
  });
});

describe("1.3.1 (1.3.1–5.5.0): the version-4 rows, whatever the config version", () => {
  it("HVM utc writes rtc_timeoffset and localtime in the image even for config version 1", () => {
    expect(sxpr("1.3.1", "hvm", "<clock offset='utc'/>", 1)).toContain("(rtc_timeoffset 0)(localtime 0)))(localtime 0)");
  });
  it("HVM reset is refused, PV localtime goes into image/linux", () => {
    expect(refusal(() => sxpr("1.3.1", "hvm", "<clock offset='localtime' adjustment='reset'/>", 2)).message).toBe("unsupported clock adjustment='reset'");
    expect(clockPaths(sxpr("1.3.1", "pv", "<clock offset='localtime'/>", 2))).toEqual(["/image/linux/localtime=1", "/localtime=1"]);
  });
});

describe("rfc-2012 (0.8.7 with the 2012 RFC, as the seed report states it)", () => {
  it("point 1/5: PV utc → (localtime 0), localtime → (localtime 1), only inside image/linux", () => {
    expect(clockPaths(sxpr("rfc-2012", "pv", "<clock offset='utc'/>", 4))).toEqual(["/image/linux/localtime=0"]);
    expect(clockPaths(sxpr("rfc-2012", "pv", "<clock offset='localtime'/>", 2))).toEqual(["/image/linux/localtime=1"]);
  });
  it("point 5: a bootloader PV guest gets an image element for the clock", () => {
    expect(sxpr("rfc-2012", "pv-bootloader", "<clock offset='localtime'/>", 4)).toContain("(on_crash 'destroy')(image (linux (localtime 1)))(device ");
  });
  it("point 3: HVM utc / localtime → (localtime N)(rtc_timeoffset 0) inside image/hvm, no top-level copy", () => {
    const u = sxpr("rfc-2012", "hvm", "<clock offset='utc'/>", 4);
    expect(u).toContain("(localtime 0)(rtc_timeoffset 0)))");
    expect(clockPaths(u)).toEqual(["/image/hvm/localtime=0", "/image/hvm/rtc_timeoffset=0"]);
    expect(clockPaths(sxpr("rfc-2012", "hvm", "<clock offset='localtime'/>", 1))).toEqual(["/image/hvm/localtime=1", "/image/hvm/rtc_timeoffset=0"]);
  });
  it("point 2: HVM variable adjustment=A → (localtime 0)(rtc_timeoffset A)", () => {
    const s = sxpr("rfc-2012", "hvm", "<clock offset='variable' adjustment='7200'/>", 4);
    expect(s).toContain("(localtime 0)(rtc_timeoffset 7200)))");
    expect(clockPaths(s)).toEqual(["/image/hvm/localtime=0", "/image/hvm/rtc_timeoffset=7200"]);
  });
  it("timezone (and PV variable) are refused with 0.8.7's message", () => {
    expect(refusal(() => sxpr("rfc-2012", "hvm", "<clock offset='timezone' timezone='Europe/Berlin'/>", 4))).toEqual({
      code: "libvirt.unsupported",
      message: "unsupported clock offset 'timezone'",
    });
    expect(refusal(() => sxpr("rfc-2012", "pv", "<clock offset='variable' adjustment='0'/>", 4)).message).toBe("unsupported clock offset 'variable'");
  });
  it("everything but the clock is 0.8.7's output", () => {
    const rfc = sxpr("rfc-2012", "hvm", "<clock offset='localtime'/>", 4);
    const old = sxpr("0.6.2", "hvm", "<clock offset='localtime'/>", 4);
    const strip = (s: string): string => s.replace(/\(localtime \d\)|\(rtc_timeoffset -?\d+\)/g, "");
    expect(strip(rfc)).toBe(strip(old));
  });
});
