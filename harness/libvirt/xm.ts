/**
 * What libvirt does with a domain's `<clock>` when it defines the domain through its xm-file driver
 * instead of xend: libvirt before 1.3.1 does so when xend reports an `xend_config_format` below 3 (xend
 * before 3.0.4; xend 3.0.0 reports none, so libvirt assumes 1). The xm-file driver writes
 * `/etc/xen/<name>`; nothing reaches xend. It refuses the same clocks its formatter cannot write, with
 * its own message, and that refusal is the honest outcome of such a cell (docs/xend-series.md#xend-30).
 *
 * Read from libvirt's sources (line numbers at the tag):
 *
 * - before 0.7.7 the domain XML parser knows only `offset='localtime'`; every other offset (variable,
 *   timezone) silently becomes utc (v0.6.2 src/domain_conf.c:2118-2120, v0.7.6
 *   src/conf/domain_conf.c:3466-3468): nothing is refused. The clock became an offset enum in 0.7.7
 *   (eed2f8c3a "Change the internal domain conf representation of localtime/utc").
 * - 0.7.7 to 0.9.10: an HVM guest's clock must be utc or localtime, else "unsupported clock offset
 *   '%s'" (v0.7.7 src/xen/xm_internal.c:2343-2347, v0.8.7 src/xen/xm_internal.c:2425-2430, inside the
 *   HVM branch; v0.9.10 src/xenxs/xen_xm.c:1572-1577); a PV guest's clock is not checked.
 * - 0.9.11 to 1.3.0, xend config version below 4 (XEND_CONFIG_VERSION_3_1_0, v0.9.11
 *   src/xenxs/xen_sxpr.h:39): utc or localtime only, any guest, else "unsupported clock offset='%s'"
 *   (v0.9.11 src/xenxs/xen_xm.c:1664-1678; v1.3.0 src/xenconfig/xen_common.c:1322-1335).
 *
 * The 2012 RFC patch (`0.8.7+rfc-localtime`) changes only src/xen/xend_internal.c
 * (fixtures/libvirt-patches/0.8.7-rfc-localtime.patch): its xm-file driver is 0.8.7's.
 */
import { readClock } from "./clock.js";
import { compareVersions } from "./profiles.js";
import { CHANGES, type Gate } from "./releases.js";

/** Whether `release` (any version string, a source tree's too) is at or after the table's row for `gate`. */
function since(release: string, gate: Gate): boolean {
  const row = CHANGES.find((c) => c.gate === gate)!;
  return compareVersions(release, row.since) >= 0;
}

/**
 * Whether libvirt `release` defines a domain through its xm-file driver (config files in /etc/xen)
 * instead of xend: when xend reports an `xend_config_format` below 3 (XEND_CONFIG_VERSION_3_0_4:
 * xenDaemonDomainDefineXML returns NULL, v0.8.7 src/xen/xend_internal.c:4602, v0.9.11 3319, and
 * xenUnifiedDomainDefineXML tries the next driver). 1.3.1 removed the version checks, from the xend
 * driver (b6fa95189) and the SXPR code (5ff2e370a, the table's `xend-config-fixed` row), and always
 * posts op=new.
 */
export function definesThroughXmFiles(release: string, xendConfigFormat: number): boolean {
  return xendConfigFormat < 3 && !since(release, "xend-config-fixed");
}

/** The `offset` attribute of the domain XML's `<clock>` (utc when absent), read by the one XML reader. */
export function clockOffsetOf(xml: string): string {
  return readClock(xml).attrs.offset ?? "utc";
}

/**
 * libvirt's refusal when its xm-file driver defines a domain with this clock, or null when it writes
 * the file. `release` is the libvirt release (a patch profile: the release it patches).
 */
export function xmFileClockRefusal(release: string, guest: "pv" | "hvm", offset: string, xendConfigVersion: number): string | null {
  if (offset === "utc" || offset === "localtime") return null;
  // the offset enum and its refusals: 0.7.7 (eed2f8c3a); any guest below config version 4: 0.9.11 (11ec6bd89)
  if (!since(release, "clock-offset-enum")) return null;
  if (!since(release, "clock-variable")) return guest === "hvm" ? `unsupported clock offset '${offset}'` : null;
  if (xendConfigVersion < 4) return `unsupported clock offset='${offset}'`;
  return null;
}
