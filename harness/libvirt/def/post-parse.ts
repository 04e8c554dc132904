/**
 * What libvirt 4.5.0 does between xenParseSxpr and the formatter: virDomainDefPostParse with the
 * libxl driver's XML options (as its sexpr2xml test runs it), written from src/conf/domain_conf.c and
 * src/libxl/libxl_domain.c at the v4.5.0 release commit. Only the steps a Xen SXPR can reach:
 * - libxl: a PV guest without console gets a pty console of target type xen; implicit mouse and
 *   keyboard (ps2 for HVM, xen for PV) unless present; a memballoon of model xen; disks without a
 *   format get raw; PCI host devices get the xen backend; HVM video vram (see below).
 * - generic: per-disk drive addresses (ide/fdc/scsi by name index), memory checks, HVM boot order
 *   defaulting to hd, the console alias of the first HVM serial, implicit disk controllers, an
 *   implicit primary video when there is graphics.
 * The libxl step that enables PAE for x86_64 HVM does not apply: xenParseSxpr sets no architecture.
 * libxl asks the emulator binary (`<emulator> -help`) whether it is qemu-traditional; like libvirt's
 * test run on a host without that binary, the answer here is "upstream qemu" (cirrus vram 8192).
 */
import { HarnessError } from "../../errors.js";
import type { Gate } from "../releases.js";
import { diskNameToIndex, type DiskDef, type DomainDef } from "./domain.js";

function assignDiskAddress(disk: DiskDef): void {
  const idx = diskNameToIndex(disk.dst);
  if (idx < 0) throw new HarnessError("libvirt.parse", `Unknown disk name '${disk.dst}' and no address specified`);
  switch (disk.bus) {
    case "scsi":
      // libxl does not declare wide SCSI: 7 units per bus, one bus per controller.
      disk.address = { controller: Math.floor(idx / 7), bus: 0, target: 0, unit: idx % 7 };
      break;
    case "ide":
      disk.address = { controller: Math.floor(idx / 4), bus: Math.floor((idx % 4) / 2), target: 0, unit: idx % 2 };
      break;
    case "fdc":
      disk.address = { controller: Math.floor(idx / 2), bus: 0, target: 0, unit: idx % 2 };
      break;
    default:
      break;
  }
}

function roundUpPow2(n: number): number {
  if (n <= 0) return 0;
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function postParse450(def: DomainDef, has: (g: Gate) => boolean = () => true): void {
  const hvm = def.os.type === "hvm";
  // libxl domain callback
  if (!hvm && def.consoles.length === 0) {
    def.consoles.push({ deviceType: "console", targetType: "xen", port: 0, source: { type: "pty" } });
  }
  const bus = hvm ? "ps2" : "xen";
  for (const type of ["mouse", "keyboard"] as const) {
    if (!def.inputs.some((i) => i.type === type && i.bus === bus)) def.inputs.push({ type, bus });
  }
  if (def.memballoon === undefined) def.memballoon = "xen";

  // per-device callbacks (libxl, then the generic ones)
  for (const disk of def.disks) {
    if (disk.driverType === undefined) disk.driverType = "raw";
    assignDiskAddress(disk);
  }
  for (const h of def.hostdevs) h.backend = "xen";

  // virDomainDefPostParseCommon
  if (def.maxMemory === 0n) {
    throw new HarnessError("libvirt.parse", "Memory size must be specified via <memory> or in the <numa> configuration");
  }
  if (def.curMemory > def.maxMemory || def.curMemory === 0n) def.curMemory = def.maxMemory;
  // from 4.4.0 (5b75a4a80) the boot order post-parse makes an HVM guest without any boot device boot from hd
  if (hvm && def.os.bootDevs.length === 0 && has("boot-order-postparse")) def.os.bootDevs.push("hd");

  // console compatibility: an HVM guest's first serial port is also shown as its console
  if (hvm && def.consoles.length === 0 && def.serials.length > 0) {
    def.consoles.push({ deviceType: "console", targetType: "serial", port: -1, source: { type: "null" } });
  }
  // implicit controllers for drive addresses: scsi, fdc, ide, in that order
  for (const [ctlType, diskBus] of [["scsi", "scsi"], ["fdc", "fdc"], ["ide", "ide"]] as const) {
    let max = -1;
    for (const d of def.disks) if (d.bus === diskBus && d.address && d.address.controller > max) max = d.address.controller;
    for (let i = 0; i <= max; i++) {
      if (!def.controllers.some((c) => c.type === ctlType && c.index === i)) def.controllers.push({ type: ctlType, index: i });
    }
  }
  if (def.graphics.length > 0 && def.videos.length === 0) {
    const type = hvm ? "cirrus" : "xen";
    let vram = 0;
    if (hvm) vram = type === "cirrus" ? 8 * 1024 : 16 * 1024;
    if (vram === 0) vram = type === "xen" ? 4 * 1024 : 16 * 1024;
    def.videos.push({ type, vram: roundUpPow2(vram), heads: 1, primary: true });
  }
}

/**
 * What 1.3.1-4.2.0 do between xenParseSxpr and the formatter (virDomainDefPostParse with the xend
 * driver's XML options, 4100aecd1): a memballoon of model xen, and the generic per-disk drive
 * addresses; later releases add more there (the rows named by `has`).
 */
export function postParseXend(def: DomainDef, has: (g: Gate) => boolean): void {
  const hvm = def.os.type === "hvm";
  if (has("implicit-input")) {
    // the xen driver's callback: mouse and keyboard, ps2 for HVM, xen for PV, unless present
    const bus = hvm ? "ps2" : "xen";
    for (const type of ["mouse", "keyboard"] as const) {
      if (!def.inputs.some((i) => i.type === type && i.bus === bus)) def.inputs.push({ type, bus });
    }
  }
  if (def.memballoon === undefined) def.memballoon = "xen";
  for (const disk of def.disks) assignDiskAddress(disk);
  if (has("implicit-controllers")) {
    for (const [ctlType, diskBus] of [["scsi", "scsi"], ["fdc", "fdc"], ["ide", "ide"]] as const) {
      let max = -1;
      for (const d of def.disks) if (d.bus === diskBus && d.address && d.address.controller > max) max = d.address.controller;
      for (let i = 0; i <= max; i++) {
        if (!def.controllers.some((c) => c.type === ctlType && c.index === i)) def.controllers.push({ type: ctlType, index: i });
      }
    }
  }
  if (has("implicit-video") && def.graphics.length > 0 && def.videos.length === 0) {
    // the default video RAM is filled in from 1.3.5 (cirrus 16 MiB, xen 4 MiB); before, none is shown
    const vram = has("video-default-vram") ? (hvm ? 16 * 1024 : 4 * 1024) : 0;
    def.videos.push({ type: hvm ? "cirrus" : "xen", vram, heads: 1, primary: true });
  }
}
