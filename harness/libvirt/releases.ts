/**
 * The libvirt releases this project models, and the one table of what changed in which release.
 *
 * A profile is this table read at one version: `has(version, gate)` says whether a release carries a
 * change. Both directions (XML → SXPR: domxml/parse.ts + sxpr/format.ts; SXPR → XML: sxpr/parse.ts +
 * domxml/format.ts, all through the one definition in def/) and the wire ask the same function; no
 * converter compares version numbers itself.
 *
 * Each row names the release where the change first shipped and the upstream libvirt commit (short
 * hash, checked with `git tag --contains` in the datto/libvirt and open-power-host-os/libvirt mirrors:
 * in that release, not in the one before). A maintenance release (four-part version, e.g. 0.10.2.5)
 * carries a change of a later release only when the row lists it in `backports` (checked against
 * that release's own suite and `git log vX.Y.Z..vX.Y.Z.N`).
 */
import { HarnessError } from "../errors.js";

/**
 * The behaviours the converters implement (the eras), named after the first release showing them; the
 * conformance tag is the libvirt release whose own test suite pins the exact text.
 * - `0.6.2`: 0.6.2–0.9.4 (pinned by v0.8.7's suite)
 * - `0.9.5`: 0.9.5–0.9.10 (v0.9.10)
 * - `0.9.11`: 0.9.11–1.3.0 (v0.9.11)
 * - `1.3.1`: 1.3.1–5.5.0 (v4.5.0)
 * - `rfc-2012`: 0.8.7 with the 2012 RFC patch (libvir-list, Philipp Hahn, 2012-01-11), as the report states it
 */
export type Behaviour = "0.6.2" | "0.9.5" | "0.9.11" | "1.3.1" | "rfc-2012";

/** The base model of an era: the release whose own suite pinned it (see ERA_PIN). */
export type BaseRelease = "0.8.7" | "0.9.10" | "0.9.11" | "4.5.0";

/** Every release that shipped libvirt's xend SXPR code and that a profile models, oldest first. */
export const RELEASES: readonly string[] = [
  "0.6.0", "0.6.1", "0.6.2", "0.6.3", "0.6.4", "0.6.5",
  "0.7.0", "0.7.1", "0.7.2", "0.7.3", "0.7.4", "0.7.5", "0.7.6", "0.7.7",
  "0.8.0", "0.8.1", "0.8.2", "0.8.3", "0.8.4", "0.8.5", "0.8.6", "0.8.7", "0.8.8",
  "0.9.0", "0.9.1", "0.9.2", "0.9.3", "0.9.4", "0.9.5",
  "0.9.6", "0.9.6.1", "0.9.6.2", "0.9.6.3", "0.9.6.4",
  "0.9.7", "0.9.8", "0.9.9", "0.9.10",
  "0.9.11", "0.9.11.1", "0.9.11.2", "0.9.11.3", "0.9.11.4", "0.9.11.5", "0.9.11.6", "0.9.11.7", "0.9.11.8", "0.9.11.9", "0.9.11.10",
  "0.9.12", "0.9.12.1", "0.9.12.2", "0.9.12.3", "0.9.13",
  "0.10.0", "0.10.1", "0.10.2", "0.10.2.1", "0.10.2.2", "0.10.2.3", "0.10.2.4", "0.10.2.5", "0.10.2.6", "0.10.2.7", "0.10.2.8",
  "1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4",
  "1.0.5", "1.0.5.1", "1.0.5.2", "1.0.5.3", "1.0.5.4", "1.0.5.5", "1.0.5.6", "1.0.5.7", "1.0.5.8", "1.0.5.9", "1.0.6",
  "1.1.0", "1.1.1", "1.1.2", "1.1.3", "1.1.3.1", "1.1.3.2", "1.1.3.3", "1.1.3.4", "1.1.3.5", "1.1.3.6", "1.1.3.7", "1.1.3.8", "1.1.3.9", "1.1.4",
  "1.2.0", "1.2.1", "1.2.2", "1.2.3", "1.2.4", "1.2.5", "1.2.6", "1.2.7", "1.2.8",
  "1.2.9", "1.2.9.1", "1.2.9.2", "1.2.9.3", "1.2.10", "1.2.11", "1.2.12",
  "1.2.13", "1.2.13.1", "1.2.13.2", "1.2.14", "1.2.15", "1.2.16", "1.2.17",
  "1.2.18", "1.2.18.1", "1.2.18.2", "1.2.18.3", "1.2.18.4", "1.2.19", "1.2.20", "1.2.21",
  "1.3.0", "1.3.1", "1.3.2", "1.3.3", "1.3.3.1", "1.3.3.2", "1.3.3.3", "1.3.4", "1.3.5",
  "2.0.0", "2.1.0", "2.2.0", "2.2.1", "2.3.0", "2.4.0", "2.5.0",
  "3.0.0", "3.1.0", "3.2.0", "3.2.1", "3.3.0", "3.4.0", "3.5.0", "3.6.0", "3.7.0", "3.8.0", "3.9.0", "3.10.0",
  "4.0.0", "4.1.0", "4.2.0", "4.3.0", "4.4.0", "4.5.0",
  // No public tree with these tags was at hand: their suites are not checked; modelled as 4.5.0
  // with the rows below (none after 4.5.0 is known). The SXPR code was removed in 5.6.0.
  "4.6.0", "4.7.0", "4.8.0", "4.9.0", "4.10.0",
  "5.0.0", "5.1.0", "5.2.0", "5.3.0", "5.4.0", "5.5.0",
];

/** Releases whose own suite is not available here (see RELEASES). */
export const UNCHECKED_RELEASES: readonly string[] = ["4.6.0", "4.7.0", "4.8.0", "4.9.0", "4.10.0", "5.0.0", "5.1.0", "5.2.0", "5.3.0", "5.4.0", "5.5.0"];

/** Which part of a profile a change touches. */
export type Side = "format" | "parse" | "wire" | "transport" | "both";

export interface Change {
  /** The first release carrying the change. */
  since: string;
  /** The first release no longer carrying it (a regression fixed later), if any. */
  until?: string;
  /** Maintenance releases before `since` that carry it (backported). */
  backports?: readonly string[];
  /** Upstream libvirt commit(s), short hash. */
  commit: string;
  gate: Gate;
  side: Side;
  /** What the change does, in one sentence. */
  what: string;
}

/** The name of a behaviour change (one row of CHANGES). */
export type Gate =
  | "xml-disk-insert"
  | "memory-round-up"
  | "hap"
  | "spicevmc"
  | "sound-ich6"
  | "inactive-no-ifname"
  | "viridian"
  | "transient-disk-refused"
  | "multiple-consoles"
  | "pygrub-boot-order"
  | "uuid-checked"
  | "root-element-message"
  | "kvmclock"
  | "disk-lun"
  | "title"
  | "privnet"
  | "hvm-empty-kernel"
  | "empty-node-dropped"
  | "no-xend-driver"
  | "boot-order-postparse"
  | "listen-address-optional"
  | "video-default-vram"
  | "implicit-input"
  | "implicit-controllers"
  | "implicit-video"
  | "vif-rate"
  | "libxl-defaults"
  | "serial-ports"
  | "hpet"
  | "graphics-listen"
  | "bootloader-args-image"
  | "top-level-localtime"
  | "disk-insert"
  | "sound-duplicates"
  | "chr-server-nowait"
  | "console-target-type"
  | "pv-image-localtime"
  | "wire-uri-escape"
  | "tap2-driver"
  | "no-dom0-console"
  | "clock-variable"
  | "clock-basis"
  | "vcpu-placement"
  | "hvm-no-vfb"
  | "nic-no-ioemu"
  | "tap-aio-is-raw"
  | "xend-reply-unparsable"
  | "keyboard-input"
  | "backing-store"
  | "loader-rom"
  | "ip-family"
  | "xend-config-fixed"
  | "clock-offset-enum"
  | "clock-timers";

/** The table. Rows in release order. */
export const CHANGES: readonly Change[] = [
  {
    since: "0.6.2",
    commit: "b02c0455d",
    gate: "top-level-localtime",
    side: "both",
    what: "localtime is also written and read at the top level, (localtime 1) after on_crash, for PV and HVM (before: only in the HVM image)",
  },
  {
    since: "0.7.1",
    commit: "2d6adabd5",
    gate: "disk-insert",
    side: "both",
    what: "disks are no longer sorted by bus, then target index: the SXPR parser inserts each after the disks of its bus with a lower index, the domain XML parser keeps document order (see xml-disk-insert)",
  },
  {
    since: "0.7.6",
    commit: "4359900ed",
    gate: "sound-duplicates",
    side: "format",
    what: "the domain XML parser keeps a <sound> whose model is already listed (before: dropped)",
  },
  {
    since: "0.7.7",
    commit: "eed2f8c3a",
    gate: "clock-offset-enum",
    side: "format",
    what: "<clock offset> is read as one of utc, localtime, variable (b9e2967a5) and timezone (e4d7433ef), anything else refused (\"unknown clock offset\"), with its adjustment and timezone (before: localtime if the offset is exactly 'localtime', else utc, every other attribute ignored)",
  },
  {
    since: "0.8.0",
    commit: "92a9e5df6",
    gate: "clock-timers",
    side: "format",
    what: "<clock><timer> elements are read (names and present checked); before, ignored",
  },
  {
    since: "0.8.2",
    commit: "953809dbe",
    gate: "chr-server-nowait",
    side: "both",
    what: "a listening tcp/unix character device is written as ',server,nowait' and read from ',server' (before: ',listen')",
  },
  {
    since: "0.8.3",
    commit: "6b2475523",
    gate: "console-target-type",
    side: "parse",
    what: "a <console>'s <target> carries its type ('xen', 'serial')",
  },
  {
    since: "0.8.8",
    commit: "d9ad8ac39",
    gate: "memory-round-up",
    side: "format",
    what: "memory and maxmem are written in MiB rounded up (before: rounded down)",
  },
  {
    since: "0.8.8",
    commit: "041973504",
    gate: "hap",
    side: "both",
    what: "the HAP feature: <hap/> read from and written as (hap 1)",
  },
  {
    since: "0.8.8",
    commit: "be87a1236",
    gate: "spicevmc",
    side: "both",
    what: "the spicevmc character device type is known (one enum for the domain XML parser and the SXPR parser's character devices)",
  },
  {
    since: "0.8.8",
    commit: "6cabc0b0d",
    gate: "sound-ich6",
    side: "both",
    what: "the ich6 sound model is known",
  },
  {
    since: "0.9.0",
    commit: "3ee7cf6c9",
    gate: "serial-ports",
    side: "both",
    what: "an HVM guest may have several serial ports: (serial (A B …)) written when there is more than one or the first is not port 0, and read back; a /dev/… character device reads back with its path (before: none)",
  },
  {
    since: "0.9.1",
    commit: "578391e1b",
    gate: "inactive-no-ifname",
    side: "parse",
    what: "an inactive domain's interfaces get no generated vifN.M target name",
  },
  {
    since: "0.9.2",
    commit: "e547e44cb",
    gate: "hpet",
    side: "both",
    what: "the HVM image's (hpet 0|1) is written from and read into <timer name='hpet' present=…>",
  },
  {
    since: "0.9.2",
    commit: "c1a98d882",
    gate: "xml-disk-insert",
    side: "format",
    what: "the domain XML parser inserts each disk after the disks of its bus with a lower target index (from 0.7.1 to 0.9.1 it kept document order)",
  },
  {
    since: "0.9.3",
    commit: "c4bd6d96f",
    gate: "viridian",
    side: "both",
    what: "the viridian feature: <viridian/> read from and written as (viridian 1)",
  },
  {
    since: "0.9.4",
    commit: "ef79fb5b5",
    gate: "graphics-listen",
    side: "both",
    what: "<graphics> has <listen> subelements (formatted beside the listen attribute); an empty listen attribute is dropped",
  },
  {
    since: "0.9.4",
    commit: "eb3143154",
    gate: "bootloader-args-image",
    side: "format",
    what: "a PV guest with a bootloader keeps its kernel command line: (image (linux (args …))) (before: dropped)",
  },
  {
    since: "0.9.5",
    commit: "8be115ff8",
    gate: "pv-image-localtime",
    side: "parse",
    what: "a PV guest's localtime is also read from /domain/image/linux/localtime (before: only /domain/localtime)",
  },
  {
    since: "0.9.5",
    commit: "b14e7d2a1",
    gate: "wire-uri-escape",
    side: "wire",
    what: "every form field of a request to xend is URI-escaped (before: a define was sent unescaped)",
  },
  {
    since: "0.9.5",
    commit: "e91d27ee4",
    gate: "transient-disk-refused",
    side: "format",
    what: "a <transient/> disk is refused (\"transient disks not supported yet\")",
  },
  {
    since: "0.9.7",
    backports: ["0.9.6.1", "0.9.6.2", "0.9.6.3", "0.9.6.4"],
    commit: "dca1a6b46",
    gate: "hvm-empty-kernel",
    side: "parse",
    what: "an HVM guest's empty (kernel '') beside a loader is dropped (backported to 0.9.6.1 as f20331c81)",
  },
  {
    since: "0.9.7",
    commit: "c490b469c",
    gate: "tap2-driver",
    side: "parse",
    what: "a (device (tap2 …)) disk reads back with driver name 'tap2' (before: 'tap')",
  },
  {
    since: "0.9.7",
    commit: "0873b688c",
    gate: "multiple-consoles",
    side: "both",
    what: "several <console> devices are read and shown (before: the first only; an HVM guest's serial shown as its console)",
  },
  {
    since: "0.9.7",
    commit: "c2969ec7a",
    gate: "pygrub-boot-order",
    side: "parse",
    what: "a disk's (bootable 1) is read (PyGrub boot device order)",
  },
  {
    since: "0.9.7",
    commit: "430156cf3",
    gate: "uuid-checked",
    side: "parse",
    what: "a malformed uuid in the SXPR fails the parse (before: ignored)",
  },
  {
    since: "0.9.8",
    commit: "a495365d0",
    gate: "empty-node-dropped",
    side: "parse",
    what: "an empty value ('') of name, description, bootloader, bootloader_args, the image's kernel, ramdisk, args, root, loader and device_model counts as absent (xend 4.1 sends (description '') and (kernel '')): no empty element in the XML",
  },
  {
    since: "0.9.8",
    commit: "a6916977b",
    gate: "root-element-message",
    side: "format",
    what: "a wrong root element is reported as \"unexpected root element <x>, expecting <domain>\" (before: \"incorrect root element\")",
  },
  {
    since: "0.9.10",
    backports: ["0.9.6.1", "0.9.6.2", "0.9.6.3", "0.9.6.4"],
    commit: "efb0839c1",
    gate: "no-dom0-console",
    side: "parse",
    what: "no <console> for domain 0 (backported to 0.9.6.1 as 3d8f56d12)",
  },
  {
    since: "0.9.10",
    commit: "5a137f362",
    gate: "kvmclock",
    side: "format",
    what: "the kvmclock timer name is known",
  },
  {
    since: "0.9.10",
    commit: "177db0877",
    gate: "disk-lun",
    side: "format",
    what: "the disk device 'lun' is known",
  },
  {
    since: "0.9.10",
    commit: "b79ba8382",
    gate: "title",
    side: "format",
    what: "<title> is read (and refused when it holds a newline)",
  },
  {
    since: "0.9.11",
    commit: "11ec6bd89",
    gate: "clock-variable",
    side: "both",
    what: "<clock offset='variable'> and rtc_timeoffset: HVM clock variable + rtc_timeoffset at xend config version >= 4, PV adjustment='reset'",
  },
  {
    since: "0.9.11",
    commit: "b8bf79aad",
    gate: "clock-basis",
    side: "both",
    what: "clock offset='variable' gets a basis (utc or localtime)",
  },
  {
    since: "0.9.11",
    commit: "10a8b1f95",
    gate: "privnet",
    side: "format",
    what: "the privnet feature is known",
  },
  {
    since: "0.9.12",
    commit: "d70f2e117",
    gate: "vcpu-placement",
    side: "parse",
    what: "formatted XML always shows <vcpu placement='static'>",
  },
  {
    since: "0.9.12",
    backports: ["0.9.11.1", "0.9.11.2", "0.9.11.3", "0.9.11.4", "0.9.11.5", "0.9.11.6", "0.9.11.7", "0.9.11.8", "0.9.11.9", "0.9.11.10"],
    commit: "fb98da005",
    gate: "hvm-no-vfb",
    side: "format",
    what: "an HVM guest's graphics are written in the image, never as a (device (vfb …)), at xend config version 4 (backported to 0.9.11.1 as c5031e2d1)",
  },
  {
    since: "0.9.12",
    backports: [...["0.9.6.1", "0.9.6.2", "0.9.6.3", "0.9.6.4"], ...["0.9.11.1", "0.9.11.2", "0.9.11.3", "0.9.11.4", "0.9.11.5", "0.9.11.6", "0.9.11.7", "0.9.11.8", "0.9.11.9", "0.9.11.10"]],
    commit: "10c31135f",
    gate: "nic-no-ioemu",
    side: "format",
    what: "an emulated NIC of an HVM guest is no longer written as (type ioemu) at xend config version 4 (backported to 0.9.6.1 as b0200c81e and to 0.9.11.1 as e3cac12ca)",
  },
  {
    since: "1.0.0",
    commit: "41e0edaf8",
    gate: "tap-aio-is-raw",
    side: "both",
    what: "'aio' is read as the format 'raw': a tap:aio: disk reads back with driver type 'raw' (before: 'aio'), and a tap disk of type raw is written as tap:aio: (before: tap:raw:)",
  },
  {
    since: "1.2.1",
    until: "1.2.2",
    commit: "df36af589",
    gate: "xend-reply-unparsable",
    side: "transport",
    what: "libvirt 1.2.1 cannot talk to xend: it parses the status line of every xend HTTP reply strictly ('200 OK' is not a number), so every request fails with \"internal error: failed to parse Xend response return code\" (df36af589; fixed by 37564b471 in 1.2.2)",
  },
  {
    since: "1.2.2",
    commit: "bc1837339",
    gate: "keyboard-input",
    side: "parse",
    what: "formatted XML lists the implicit keyboard input device beside the implicit mouse",
  },
  {
    since: "1.2.4",
    until: "3.9.0",
    commit: "546154e3d",
    gate: "backing-store",
    side: "parse",
    what: "the disks of a running domain (an SXPR with a domid) carry an empty <backingStore/>; inactive XML shows none (until a693fdba0 in 3.9.0 shows it only for a chain terminated explicitly)",
  },
  {
    since: "1.2.9",
    commit: "68bf13dbe",
    gate: "loader-rom",
    side: "parse",
    what: "the HVM loader is formatted as <loader type='rom'>",
  },
  {
    since: "1.2.12",
    commit: "aa2cc7210",
    gate: "ip-family",
    side: "parse",
    what: "an interface's <ip> carries its family ('ipv4'/'ipv6')",
  },
  {
    since: "1.3.1",
    commit: "5ff2e370a",
    gate: "xend-config-fixed",
    side: "both",
    what: "the xend config version checks are gone: the code behaves as at version 4 whatever xend reports",
  },
  {
    since: "1.3.1",
    commit: "1dd34bbb4",
    gate: "vif-rate",
    side: "both",
    what: "a vif's (rate …) is read into and written from the interface's outbound <bandwidth>",
  },
  {
    since: "1.3.2",
    commit: "36785c7e7",
    gate: "implicit-input",
    side: "parse",
    what: "the implicit mouse and keyboard (ps2 for HVM, xen for PV) are added by the driver's post-parse, with or without graphics",
  },
  {
    since: "1.3.2",
    commit: "4066c7342",
    gate: "implicit-controllers",
    side: "parse",
    what: "implicit disk controllers (e.g. <controller type='ide' index='0'/>) are added by post-parse and shown",
  },
  {
    since: "1.3.4",
    backports: ["1.3.3.1", "1.3.3.2", "1.3.3.3"],
    commit: "6879be484",
    gate: "implicit-video",
    side: "parse",
    what: "the implicit primary <video> of a guest with graphics is added after parsing and shown (with 6d8b6d284; backported to 1.3.3.1 as c273d72de, 9bf534746)",
  },
  {
    since: "1.3.5",
    commit: "b33c14b34",
    gate: "listen-address-optional",
    side: "parse",
    what: "VNC graphics read from SXPR always get a <listen type='address'/>, with or without an address",
  },
  {
    since: "1.3.5",
    backports: ["1.3.3.2", "1.3.3.3"],
    commit: "538012c8a",
    gate: "video-default-vram",
    side: "parse",
    what: "the implicit video gets its default video RAM (cirrus 16384 KiB, xen 4096 KiB) (backported to 1.3.3.2 as 4dbcc6fb1)",
  },
  {
    since: "4.3.0",
    commit: "2ea9d403f",
    gate: "libxl-defaults",
    side: "both",
    what: "the conversion runs with the libxl driver's defaults (xml2sexpr 2ea9d403f, sexpr2xml 212da33f8): HVM pae on, raw disk format, implicit inputs, controllers, video and memballoon, <listen> of graphics",
  },
  {
    since: "4.3.0",
    commit: "1dac5fbbb",
    gate: "no-xend-driver",
    side: "transport",
    what: "libvirt 4.3.0 removed the xend driver (1dac5fbbb): from 4.3.0 to 5.5.0 libvirt cannot talk to xend at all; its SXPR code only converts (virsh domxml-from-native/domxml-to-native xen-sxpr, through the libxl driver)",
  },
  {
    since: "4.4.0",
    commit: "5b75a4a80",
    gate: "boot-order-postparse",
    side: "parse",
    what: "an HVM guest without any boot device gets <boot dev='hd'/> from the boot order post-parse",
  },
];

/** Compare dotted release numbers (missing parts count as 0). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

const BY_GATE = new Map<Gate, Change>(CHANGES.map((c) => [c.gate, c]));
const KNOWN = new Set(RELEASES);

/** Does release `version` (one of RELEASES) carry the change `gate`? */
export function has(version: string, gate: Gate): boolean {
  const c = BY_GATE.get(gate);
  if (!c) throw new HarnessError("internal", `no row for gate '${gate}' in the table of libvirt changes`);
  if (!KNOWN.has(version)) throw new HarnessError("internal", `'${version}' is not a modelled libvirt release`);
  if (c.backports?.includes(version)) return true;
  if (compareVersions(version, c.since) < 0) return false;
  return c.until === undefined || compareVersions(version, c.until) < 0;
}

/** The gates a release carries, in table order. */
export function gatesAt(version: string): Gate[] {
  return CHANGES.filter((c) => has(version, c.gate)).map((c) => c.gate);
}

/** The rows that differ between two releases (what changed from `a` to `b`). */
export function changesBetween(a: string, b: string): Change[] {
  return CHANGES.filter((c) => has(a, c.gate) !== has(b, c.gate));
}

/** Is `version` a modelled release? */
export function isRelease(version: string): boolean {
  return KNOWN.has(version);
}

/** The known releases nearest to a version that is not one (for error messages). */
export function nearestReleases(version: string): string[] {
  if (!/^\d+(\.\d+)*$/.test(version)) return [];
  let below: string | undefined;
  let above: string | undefined;
  for (const r of RELEASES) {
    const d = compareVersions(r, version);
    if (d < 0) below = r;
    else if (d > 0 && above === undefined) above = r;
  }
  return [below, above].filter((x): x is string => x !== undefined);
}

/**
 * One release as the converters see it: the table read at that version. `era` names the base model
 * the converters were first written for (the four clock eras of facts/libvirt.md §2, each pinned by
 * one release's suite); it follows from the table's rows, and every later difference is asked
 * through `has`.
 */
export interface Level {
  /** The release, e.g. `1.1.3` (for a patch profile: the release it patches). */
  readonly release: string;
  readonly era: Behaviour;
  /** A stable key of this level for caches: the release, plus the patch name if any. */
  readonly key: string;
  has(gate: Gate): boolean;
}

const levels = new Map<string, Level>();

/** The level of a release (one of RELEASES), or of the 2012 RFC patch on it. */
export function levelAt(release: string, patch?: "rfc-2012"): Level {
  const key = patch ? `${release}+${patch}` : release;
  let l = levels.get(key);
  if (!l) {
    const gates = new Set(gatesAt(release));
    const era: Behaviour = patch
      ? patch
      : gates.has("xend-config-fixed")
        ? "1.3.1"
        : gates.has("clock-variable")
          ? "0.9.11"
          : gates.has("pv-image-localtime")
            ? "0.9.5"
            : "0.6.2";
    l = { release, era, key, has: (g) => (BY_GATE.has(g) ? gates.has(g) : has(release, g)) };
    levels.set(key, l);
  }
  return l;
}

/** The release whose suite first pinned each era (what a bare era name means to the converters). */
export const ERA_PIN: Record<Behaviour, BaseRelease> = {
  "0.6.2": "0.8.7",
  "0.9.5": "0.9.10",
  "0.9.11": "0.9.11",
  "1.3.1": "4.5.0",
  "rfc-2012": "0.8.7",
};

/** A level from an era name (older callers and tests) or a level itself. */
export function asLevel(l: Behaviour | Level): Level {
  if (typeof l !== "string") return l;
  return l === "rfc-2012" ? levelAt(ERA_PIN[l], "rfc-2012") : levelAt(ERA_PIN[l]);
}

/** The table as Markdown (docs/libvirt-releases.md holds it; test/libvirt-releases.test.ts keeps it current). */
export function renderChangesMarkdown(): string {
  const rows = CHANGES.map((c) => {
    const when = c.until ? `${c.since} – before ${c.until}` : c.since;
    const back = c.backports?.length ? ` (also ${c.backports.join(", ")})` : "";
    return `| <a id="${c.gate}"></a>\`${c.gate}\` | ${when}${back} | ${c.commit} | ${c.side} | ${c.what.replace(/\|/g, "\\|").replace(/</g, "&lt;")} |`;
  });
  return ["| gate | release | libvirt commit | side | what changed |", "| --- | --- | --- | --- | --- |", ...rows].join("\n") + "\n";
}
