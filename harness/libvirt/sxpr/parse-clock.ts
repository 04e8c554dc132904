/**
 * The <clock> part of xenParseSxpr, per behaviour. Facts: /work/shared/facts/libvirt.md §2a and §3.
 *
 * rfc-2012 (0.8.7 + the 2012 RFC, as the seed report states its points 1, 2 and 4; 3 and 5 concern
 * the XML → SXPR direction):
 * - point 1, PV: localtime from /domain/image/linux/localtime, falling back to /domain/localtime;
 *   non-zero → offset='localtime', else 'utc'.
 * - point 2, HVM: localtime from /domain/image/hvm/localtime, falling back to /domain/localtime, and
 *   rtc_timeoffset from /domain/image/hvm: localtime 0 → offset='variable' adjustment=<rtc or 0>
 *   (0.8.7's formatter has no basis attribute); localtime 1 with rtc 0 or absent → 'localtime'.
 * - point 4: localtime 1 with rtc ≠ 0 has no mapping; it reads as 'localtime' and a warning is logged.
 */
import type { Sx } from "../../sxp/index.js";
import { HarnessError } from "../../errors.js";
import { emptyClock, type ClockDef } from "../def/index.js";
import type { BaseRelease as Release } from "../releases.js";
import { int, node, strToLongI } from "./lookup.js";

export type ClockRule = Release | "rfc-2012";

export function parseClock(root: Sx, hvm: boolean, rule: ClockRule, xendConfigVersion: number, warnings: string[], topLevelLocaltime = true): ClockDef {
  const clock: ClockDef = emptyClock();
  switch (rule) {
    case "0.8.7": {
      if (hvm && int(root, "domain/image/hvm/localtime")) clock.offset = "localtime";
      if (topLevelLocaltime && int(root, "domain/localtime")) clock.offset = "localtime";
      return clock;
    }
    case "0.9.10": {
      if (hvm) {
        if (int(root, "domain/image/hvm/localtime")) clock.offset = "localtime";
      } else if (int(root, "domain/image/linux/localtime")) clock.offset = "localtime";
      if (int(root, "domain/localtime")) clock.offset = "localtime";
      return clock;
    }
    case "0.9.11":
    case "4.5.0": {
      let topLocaltime = int(root, "domain/localtime");
      const path = hvm ? "domain/image/hvm/localtime" : "domain/image/linux/localtime";
      const value = node(root, path);
      if (value !== undefined) {
        const v = strToLongI(value);
        if (v === undefined) throw new HarnessError("libvirt.internal", `unknown localtime offset ${value}`);
        topLocaltime = v;
      }
      if (hvm && (rule === "4.5.0" || xendConfigVersion >= 4)) {
        clock.offset = "variable";
        clock.adjustment = int(root, "domain/image/hvm/rtc_timeoffset");
        clock.basis = topLocaltime ? "localtime" : "utc";
      } else {
        clock.offset = topLocaltime ? "localtime" : "utc";
        clock.utcReset = true;
      }
      return clock;
    }
    case "rfc-2012": {
      const sub = hvm ? "hvm" : "linux";
      const own = node(root, `domain/image/${sub}/localtime`);
      const localtime = own !== undefined ? int(root, `domain/image/${sub}/localtime`) : int(root, "domain/localtime");
      if (!hvm) {
        clock.offset = localtime ? "localtime" : "utc";
        return clock;
      }
      const rtc = int(root, "domain/image/hvm/rtc_timeoffset");
      if (!localtime) {
        clock.offset = "variable";
        clock.adjustment = rtc;
      } else {
        clock.offset = "localtime";
        if (rtc !== 0) warnings.push(`no mapping for localtime=1 with rtc_timeoffset=${rtc} to libvirt's XML`);
      }
      return clock;
    }
  }
}
