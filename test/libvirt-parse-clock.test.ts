/**
 * The <clock> libvirt shows for a xend SXPR, per behaviour: the rows of facts/libvirt.md §2a, plus the
 * 2012 RFC's points 1, 2 and 4 (rfc-2012). Each case builds a small domain SXPR with the clock fields
 * in the places xend may return them and checks the exact `<clock …/>` text.
 */
import { describe, expect, it } from "vitest";
import { HarnessError } from "../harness/errors.js";
import { parseDomain } from "../harness/libvirt/convert.js";
import type { Behaviour } from "../harness/libvirt/types.js";

interface Fields {
  /** /domain/localtime */
  dl?: string;
  /** /domain/image/{hvm,linux}/localtime */
  il?: string;
  /** /domain/image/hvm/rtc_timeoffset */
  rtc?: string;
}

const HEAD = "(domain (domid 4)(name 'clk')(uuid '596a5d2171f48fb2e068e2386a5c413e')(memory 256)(maxmem 256)(vcpus 1)";

function pv(f: Fields): string {
  const top = f.dl !== undefined ? `(localtime ${f.dl})` : "";
  const img = f.il !== undefined ? `(localtime ${f.il})` : "";
  return `${HEAD}${top}(image (linux (kernel '/boot/vmlinuz')${img})))`;
}

function hvm(f: Fields): string {
  const top = f.dl !== undefined ? `(localtime ${f.dl})` : "";
  const img = (f.il !== undefined ? `(localtime ${f.il})` : "") + (f.rtc !== undefined ? `(rtc_timeoffset ${f.rtc})` : "");
  return `${HEAD}${top}(image (hvm (kernel '/usr/lib/xen/boot/hvmloader')(boot c)${img})))`;
}

function clockOf(sxpr: string, b: Behaviour, v = 4): { clock: string; warnings: string[] } {
  const out = parseDomain(sxpr, b, { xendConfigVersion: v });
  const m = /^ {2}<clock [^\n]*\/>$|^ {2}<clock [^\n]*>$/m.exec(out.xml);
  if (!m) throw new Error(`no clock in:\n${out.xml}`);
  return { clock: m[0].trim(), warnings: out.warnings };
}

type Row = [string, string, Behaviour, number, string];

const ROWS: Row[] = [
  // 0.6.2–0.9.4 (0.8.7 code): PV reads only /domain/localtime
  ["PV image/linux/localtime is ignored", pv({ il: "1" }), "0.6.2", 4, "<clock offset='utc'/>"],
  ["PV /domain/localtime 1", pv({ dl: "1" }), "0.6.2", 4, "<clock offset='localtime'/>"],
  ["PV nothing", pv({}), "0.6.2", 4, "<clock offset='utc'/>"],
  ["HVM image/hvm/localtime 1", hvm({ il: "1" }), "0.6.2", 4, "<clock offset='localtime'/>"],
  ["HVM /domain/localtime 1", hvm({ dl: "1" }), "0.6.2", 4, "<clock offset='localtime'/>"],
  ["HVM rtc_timeoffset is ignored", hvm({ il: "0", rtc: "3600" }), "0.6.2", 4, "<clock offset='utc'/>"],
  // 0.9.5–0.9.10: PV also reads image/linux/localtime
  ["PV image/linux/localtime 1", pv({ il: "1" }), "0.9.5", 4, "<clock offset='localtime'/>"],
  ["PV image 0 but /domain/localtime 1", pv({ il: "0", dl: "1" }), "0.9.5", 4, "<clock offset='localtime'/>"],
  ["HVM localtime 1, rtc ignored", hvm({ il: "1", rtc: "-7200" }), "0.9.5", 4, "<clock offset='localtime'/>"],
  ["HVM nothing", hvm({}), "0.9.5", 1, "<clock offset='utc'/>"],
  // 0.9.11–1.3.0
  ["PV image/linux/localtime overrides /domain/localtime (even 0)", pv({ dl: "1", il: "0" }), "0.9.11", 4, "<clock offset='utc' adjustment='reset'/>"],
  ["PV /domain/localtime as the default", pv({ dl: "1" }), "0.9.11", 2, "<clock offset='localtime' adjustment='reset'/>"],
  ["HVM v<4: localtime + reset, rtc ignored", hvm({ il: "1", rtc: "3600" }), "0.9.11", 3, "<clock offset='localtime' adjustment='reset'/>"],
  ["HVM v<4: utc + reset", hvm({}), "0.9.11", 1, "<clock offset='utc' adjustment='reset'/>"],
  ["HVM v>=4: variable, basis localtime", hvm({ il: "1", rtc: "3600" }), "0.9.11", 4, "<clock offset='variable' adjustment='3600' basis='localtime'/>"],
  ["HVM v>=4: variable, basis utc, rtc absent", hvm({ il: "0" }), "0.9.11", 4, "<clock offset='variable' adjustment='0' basis='utc'/>"],
  ["HVM v>=4: /domain/localtime as the default basis", hvm({ dl: "1", rtc: "-60" }), "0.9.11", 4, "<clock offset='variable' adjustment='-60' basis='localtime'/>"],
  // 1.3.1–5.5.0: no version check
  ["HVM always variable, even with v=1", hvm({ il: "1" }), "1.3.1", 1, "<clock offset='variable' adjustment='0' basis='localtime'/>"],
  ["HVM variable with rtc", hvm({ il: "0", rtc: "7200" }), "1.3.1", 4, "<clock offset='variable' adjustment='7200' basis='utc'/>"],
  ["PV localtime + reset", pv({ il: "1" }), "1.3.1", 4, "<clock offset='localtime' adjustment='reset'/>"],
  // rfc-2012 (0.8.7 + RFC points 1, 2, 4)
  ["rfc PV reads image/linux/localtime", pv({ il: "1" }), "rfc-2012", 4, "<clock offset='localtime'/>"],
  ["rfc PV falls back to /domain/localtime", pv({ dl: "1" }), "rfc-2012", 4, "<clock offset='localtime'/>"],
  ["rfc PV image 0 wins over /domain/localtime 1", pv({ dl: "1", il: "0" }), "rfc-2012", 4, "<clock offset='utc'/>"],
  ["rfc HVM localtime 0 → variable with rtc", hvm({ il: "0", rtc: "3600" }), "rfc-2012", 4, "<clock offset='variable' adjustment='3600'/>"],
  ["rfc HVM nothing → variable 0", hvm({}), "rfc-2012", 4, "<clock offset='variable' adjustment='0'/>"],
  ["rfc HVM localtime 1, rtc 0 → localtime", hvm({ il: "1", rtc: "0" }), "rfc-2012", 4, "<clock offset='localtime'/>"],
  ["rfc HVM falls back to /domain/localtime", hvm({ dl: "1" }), "rfc-2012", 4, "<clock offset='localtime'/>"],
];

describe("SXPR → XML clock per behaviour (facts/libvirt.md §2a)", () => {
  for (const [name, sxpr, b, v, want] of ROWS) {
    it(`${b} v${v}: ${name}`, () => {
      const got = clockOf(sxpr, b, v);
      expect(got.clock).toBe(want);
      expect(got.warnings).toEqual([]);
    });
  }

  it("rfc-2012 HVM localtime 1 with rtc_timeoffset ≠ 0: localtime plus the RFC's warning (point 4)", () => {
    const got = clockOf(hvm({ il: "1", rtc: "3600" }), "rfc-2012");
    expect(got.clock).toBe("<clock offset='localtime'/>");
    expect(got.warnings).toEqual(["no mapping for localtime=1 with rtc_timeoffset=3600 to libvirt's XML"]);
  });

  it("0.6.2 (unpatched 0.8.7) gives no warning for the same input", () => {
    const got = clockOf(hvm({ il: "1", rtc: "3600" }), "0.6.2");
    expect(got.clock).toBe("<clock offset='localtime'/>");
    expect(got.warnings).toEqual([]);
  });

  for (const b of ["0.9.11", "1.3.1"] as Behaviour[]) {
    for (const [kind, sx] of [
      ["HVM", hvm({ il: "yes" })],
      ["PV", pv({ il: "yes" })],
    ] as const) {
      it(`${b}: non-numeric ${kind} image localtime is refused with libvirt's message`, () => {
        let err: unknown;
        try {
          parseDomain(sx, b, { xendConfigVersion: 4 });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(HarnessError);
        expect((err as HarnessError).code).toBe("libvirt.internal");
        expect((err as HarnessError).message).toBe("unknown localtime offset yes");
      });
    }
  }

  it("0.9.5 reads a non-numeric localtime as 0 (strtol), without error", () => {
    expect(clockOf(hvm({ il: "yes" }), "0.9.5").clock).toBe("<clock offset='utc'/>");
  });
});
