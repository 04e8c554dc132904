/**
 * xenParseSxpr (xenDaemonParseSxpr before v0.9.0): a xend domain SXPR into the domain model, per
 * libvirt release, with no console tty and no VNC port from xenstore (as libvirt's test driver runs it).
 * Written from the C code at v0.8.7 (src/xen/xend_internal.c), v0.9.10 and v0.9.11
 * (src/xenxs/xen_sxpr.c) and v4.5.0 (src/xenconfig/xen_sxpr.c).
 */
import type { Sx } from "../../sxp/index.js";
import { isIPv6 } from "node:net";
import { HarnessError } from "../../errors.js";
import { hexValue, inputTypes, GRAPHICS_TYPES, LIFECYCLE_ACTIONS, LIFECYCLE_CRASH_ACTIONS, STORAGE_FORMATS, XEN_HVM_FEATURES, chrTypes, domainFeatures, emptyDomain, soundModels, sortDisksOld } from "../def/index.js";
import type { ChrDef, DiskDef, DomainDef, GraphicsDef, NetDef } from "../def/index.js";
import { parseClock } from "./parse-clock.js";
import type { ClockRule } from "./parse-clock.js";
import { parseChr, type ChrRules } from "./parse-chr.js";
import type { BaseRelease as Release, Level } from "../releases.js";
import { has, int, lookup, node, present, strToLongI, u64 } from "./lookup.js";

function fail(msg: string): never {
  throw new HarnessError("libvirt.internal", msg);
}

/** libvirt reports nothing itself in a few failure paths; virsh then shows this text. */
const UNKNOWN_CAUSE = "An error occurred, but the cause is unknown";



/** sexpr_node_copy: a node's value; from 0.9.8 (a495365d0) an empty value counts as absent. */
function copyNode(root: Sx, path: string, ctx: ParseContext): string | undefined {
  const v = node(root, path);
  return v === "" && ctx.level.has("empty-node-dropped") ? undefined : v;
}

export interface ParseContext {
  rel: Release;
  clockRule: ClockRule;
  /** The release as the table reads it. */
  level: Level;
  xendConfigVersion: number;
  warnings: string[];
}

/**
 * virUUIDParse: 32 hex digits, '-' or ' ' allowed between pairs, white space around. On failure the
 * bytes read so far stay filled in (0.8.7 ignores the failure and shows them).
 */
export function parseUuid(s: string): { ok: boolean; bytes: Uint8Array } {
  const out = new Uint8Array(16);
  let i = 0;
  let k = 0;
  while (k < s.length && isCSpace(s.charCodeAt(k))) k++;
  while (i < 16) {
    if (k >= s.length) return { ok: false, bytes: out };
    const c = s.charCodeAt(k);
    if (c === 45 /* - */ || c === 32) {
      k++;
      continue;
    }
    const hi = hexValue(c);
    if (hi < 0) return { ok: false, bytes: out };
    out[i] = hi * 16;
    const lo = k + 1 < s.length ? hexValue(s.charCodeAt(k + 1)) : -1;
    if (lo < 0) return { ok: false, bytes: out };
    out[i] += lo;
    i++;
    k += 2;
  }
  while (k < s.length) {
    if (!isCSpace(s.charCodeAt(k))) return { ok: false, bytes: out };
    k++;
  }
  return { ok: true, bytes: out };
}

/** C's isspace in the C locale: space, \t \n \v \f \r. */
function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}


/** virParseMacAddr / virMacAddrParse. */
export function parseMac(s: string): number[] | undefined {
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < 6; i++) {
    if (!/[0-9a-fA-F]/.test(s[k] ?? "")) return undefined;
    let j = k;
    while (j < s.length && /[0-9a-fA-F]/.test(s[j])) j++;
    if (j - k < 1 || j - k > 2) return undefined;
    out.push(parseInt(s.slice(k, j), 16));
    if (i === 5 && j === s.length) return out;
    if (s[j] !== ":") return undefined;
    k = j + 1;
  }
  return undefined;
}

function popcount64(v: bigint): number {
  let n = 0;
  let x = BigInt.asUintN(64, v);
  while (x) {
    n += Number(x & 1n);
    x >>= 1n;
  }
  return n;
}

function parseOS(root: Sx, def: DomainDef, hvm: boolean, ctx: ParseContext): void {
  const os = def.os;
  if (hvm) {
    os.loader = copyNode(root, "domain/image/hvm/loader", ctx);
    if (os.loader === undefined) {
      os.loader = copyNode(root, "domain/image/hvm/kernel", ctx);
      if (os.loader === undefined) fail("domain information incomplete, missing HVM loader");
    } else {
      os.kernel = copyNode(root, "domain/image/hvm/kernel", ctx);
      os.initrd = copyNode(root, "domain/image/hvm/ramdisk", ctx);
      os.cmdline = copyNode(root, "domain/image/hvm/args", ctx);
      os.root = copyNode(root, "domain/image/hvm/root", ctx);
    }
  } else {
    os.kernel = copyNode(root, "domain/image/linux/kernel", ctx);
    os.initrd = copyNode(root, "domain/image/linux/ramdisk", ctx);
    os.cmdline = copyNode(root, "domain/image/linux/args", ctx);
    os.root = copyNode(root, "domain/image/linux/root", ctx);
  }
  if (hvm && os.kernel !== undefined && os.kernel === os.loader) os.kernel = undefined;
  if (ctx.level.has("hvm-empty-kernel") && hvm && os.kernel === "" && os.loader !== undefined) os.kernel = undefined;
  if (os.kernel === undefined && hvm) {
    const boot = copyNode(root, "domain/image/hvm/boot", ctx);
    if (boot) {
      for (const ch of boot) {
        if (os.bootDevs.length >= 4) break;
        if (ch === "a") os.bootDevs.push("fd");
        else if (ch === "c") os.bootDevs.push("hd");
        else if (ch === "d") os.bootDevs.push("cdrom");
        else if (ch === "n") os.bootDevs.push("network");
      }
    }
  }
  if (!hvm && os.kernel === undefined && os.bootloader === undefined) {
    fail("domain information incomplete, missing kernel & bootloader");
  }
}

function parseDisks(root: Sx, def: DomainDef, hvm: boolean, ctx: ParseContext): void {
  if (!Array.isArray(root)) return;
  for (const n of root) {
    const kind = present(n, "device/vbd") ? "vbd" : present(n, "device/tap") ? "tap" : present(n, "device/tap2") ? "tap2" : undefined;
    if (!kind) continue;
    // vbd first, then tap2, then tap (libvirt's order of checks).
    const k = present(n, "device/vbd") ? "vbd" : present(n, "device/tap2") ? "tap2" : "tap";
    let src = node(n, `device/${k}/uname`);
    let dst = node(n, `device/${k}/dev`);
    const mode = node(n, `device/${k}/mode`);
    const bootable = ctx.level.has("pygrub-boot-order") ? node(n, `device/${k}/bootable`) : undefined;
    // Before v1.3.1 an unset disk type is 0, i.e. 'block'; v4.5.0 leaves it unset.
    const disk: DiskDef = { type: ctx.rel === "4.5.0" ? undefined : "block", device: "disk", dst: "", bus: "ide", readonly: false, shared: false, transient: false };
    if (dst === undefined) fail("domain information incomplete, vbd has no dev");
    if (src === undefined) {
      const c = dst.indexOf(":");
      if (c < 0 || !hvm || dst.slice(c) !== ":cdrom") fail("domain information incomplete, vbd has no src");
    }
    if (src !== undefined) {
      const c = src.indexOf(":");
      if (c < 0) fail("cannot parse vbd filename, missing driver name");
      if (ctx.rel !== "0.8.7" && present(n, "device/tap2") && src.startsWith("tap:")) disk.driverName = "tap2";
      else disk.driverName = src.slice(0, c);
      src = src.slice(c + 1);
      if (disk.driverName === "tap" || disk.driverName === "tap2") {
        const c2 = src.indexOf(":");
        if (c2 < 0) fail("cannot parse vbd filename, missing driver type");
        disk.driverType = src.slice(0, c2);
        if (ctx.rel !== "4.5.0" && ctx.level.has("tap-aio-is-raw") && disk.driverType === "aio") disk.driverType = "raw";
        if (ctx.rel === "4.5.0") {
          const fmt = disk.driverType === "aio" ? "raw" : disk.driverType;
          if (!STORAGE_FORMATS.includes(fmt)) fail(`Unknown driver type ${src}`);
          disk.driverType = fmt;
        }
        src = src.slice(c2 + 1);
        disk.type = "file";
      } else if (disk.driverName === "phy") disk.type = "block";
      else if (disk.driverName === "file") disk.type = "file";
    } else {
      disk.type = "file";
    }
    if (dst.startsWith("ioemu:")) dst = dst.slice(6);
    if (ctx.rel === "4.5.0" || ctx.xendConfigVersion > 1) {
      const c = dst.lastIndexOf(":");
      if (c >= 0) {
        if (dst.slice(c) === ":cdrom") disk.device = "cdrom";
        dst = dst.slice(0, c);
      }
    }
    disk.dst = dst;
    disk.src = src;
    if (dst.startsWith("xvd")) disk.bus = "xen";
    else if (dst.startsWith("hd")) disk.bus = "ide";
    else if (dst.startsWith("sd")) disk.bus = "scsi";
    else disk.bus = "ide";
    if (mode?.includes("r")) disk.readonly = true;
    if (mode?.includes("!")) disk.shared = true;
    if (bootable === "1" && def.disks.length > 0) {
      def.disks.push(def.disks[0]);
      def.disks[0] = disk;
    } else def.disks.push(disk);
  }
}

function parseNets(root: Sx, def: DomainDef, ctx: ParseContext): void {
  if (!Array.isArray(root)) return;
  let vifIndex = 0;
  for (const n of root) {
    if (!present(n, "device/vif")) continue;
    const script = node(n, "device/vif/script");
    const bridge = node(n, "device/vif/bridge");
    const model = node(n, "device/vif/model");
    const type = node(n, "device/vif/type");
    const net: NetDef = { type: "ethernet", mac: [0, 0, 0, 0, 0, 0], ips: [] };
    if (bridge !== undefined || script === "vif-bridge") {
      net.type = "bridge";
      net.bridge = bridge;
    }
    net.script = script;
    const ipaddr = node(n, "device/vif/ip");
    if (ipaddr !== undefined) {
      if (ctx.level.has("ip-family")) {
        const ip = parseIpAddress(ipaddr);
        net.ips.push({ address: ip.text, family: ip.family });
      } else net.ips.push({ address: ipaddr });
    }
    const vifname = node(n, "device/vif/vifname");
    if (vifname !== undefined) net.ifname = vifname;
    else if (!ctx.level.has("inactive-no-ifname") || def.id !== -1) net.ifname = `vif${def.id}.${vifIndex}`;
    const mac = node(n, "device/vif/mac");
    if (mac !== undefined) {
      const m = parseMac(mac);
      if (!m) fail(`malformed mac address '${mac}'`);
      net.mac = m;
    }
    if (model !== undefined) net.model = model;
    else if (type === "netfront") net.model = "netfront";
    if (ctx.level.has("vif-rate")) {
      const rate = node(n, "device/vif/rate");
      if (rate !== undefined) net.outboundAverage = parseVifRate(rate);
    }
    def.nets.push(net);
    vifIndex++;
  }
}

function parsePci(root: Sx, def: DomainDef): void {
  if (!Array.isArray(root)) return;
  let devs: Sx[] | undefined;
  for (const n of root) {
    devs = lookup(n, "device/pci");
    if (devs) break;
  }
  if (!devs) return;
  for (const n of devs) {
    if (!present(n, "dev")) continue;
    const fields = ["domain", "bus", "slot", "func"] as const;
    const raw: Record<string, string> = {};
    for (const f of fields) {
      const v = node(n, `dev/${f}`);
      if (v === undefined) fail(`missing PCI ${f}`);
      raw[f] = v;
    }
    const num: Record<string, number> = {};
    for (const f of fields) {
      const v = strToLongI(raw[f]);
      if (v === undefined) fail(`cannot parse PCI ${f} '${raw[f]}'`);
      num[f] = v;
    }
    def.hostdevs.push({ mode: "subsystem", type: "pci", managed: false, pci: { domain: num.domain, bus: num.bus, slot: num.slot, function: num.func } });
  }
}

function parseGraphicsNew(root: Sx, def: DomainDef, ctx: ParseContext): void {
  if (!Array.isArray(root)) return;
  for (const n of root) {
    if (!present(n, "device/vfb")) continue;
    let type: string;
    const t = node(n, "device/vfb/type");
    if (t !== undefined) type = t;
    else if (node(n, "device/vfb/vnc") !== undefined) type = "vnc";
    else if (node(n, "device/vfb/sdl") !== undefined) type = "sdl";
    else type = "unknown";
    if (!GRAPHICS_TYPES.includes(type)) fail(`unknown graphics type '${type}'`);
    if (type === "sdl") {
      def.graphics.push(sdlGraphics(node(n, "device/vfb/display"), node(n, "device/vfb/xauthority")));
    } else {
      if (type !== "vnc") throw new HarnessError("internal", `graphics type '${type}' from a vfb device is not modelled by this harness`);
      let port = -1;
      const disp = node(n, "device/vfb/vncdisplay");
      if (disp !== undefined) {
        const v = strToLongI(disp);
        if (v !== undefined) port = v;
      }
      const unused = node(n, "device/vfb/vncunused");
      const autoport = unused === "1" || port === -1;
      if (port >= 0 && port < 5900) port += 5900;
      const listen = node(n, "device/vfb/vnclisten");
      const g: GraphicsDef = {
        type: "vnc",
        port,
        autoport,
        keymap: node(n, "device/vfb/keymap"),
        passwd: node(n, "device/vfb/vncpasswd"),
        fullscreen: false,
        listens: listen !== undefined || ctx.level.has("listen-address-optional") ? [{ type: "address", address: listen }] : [],
      };
      def.graphics.push(g);
    }
    break;
  }
}

function parseGraphicsOld(root: Sx, def: DomainDef, hvm: boolean, ctx: ParseContext): void {
  const p = `domain/image/${hvm ? "hvm" : "linux"}`;
  const vnc = node(root, `${p}/vnc`);
  if (vnc !== undefined && vnc[0] === "1") {
    let port = -1;
    if (ctx.rel !== "4.5.0" && port === -1 && ctx.xendConfigVersion < 2) port = 5900 + def.id;
    const unused = node(root, `${p}/vncunused`);
    const listen = node(root, `${p}/vnclisten`);
    def.graphics.push({
      type: "vnc",
      port,
      autoport: unused === "1" || port === -1,
      keymap: node(root, `${p}/keymap`),
      passwd: node(root, `${p}/vncpasswd`),
      fullscreen: false,
      listens: listen !== undefined || ctx.level.has("listen-address-optional") ? [{ type: "address", address: listen }] : [],
    });
    return;
  }
  const sdl = node(root, `${p}/sdl`);
  if (sdl !== undefined && sdl[0] === "1") {
    def.graphics.push(sdlGraphics(node(root, `${p}/display`), node(root, `${p}/xauthority`)));
  }
}

function sdlGraphics(display: string | undefined, xauth: string | undefined): GraphicsDef {
  return { type: "sdl", port: 0, autoport: false, display, xauth, fullscreen: false, listens: [] };
}

function parseSound(str: string, def: DomainDef, ctx: ParseContext): void {
  if (str === "all") {
    def.sounds.push({ model: "sb16" }, { model: "es1370" });
    return;
  }
  let rest: string | undefined = str;
  while (rest !== undefined) {
    const c = rest.indexOf(",");
    const model = c >= 0 ? rest.slice(0, c) : rest;
    if (model.length >= 10) fail(`Sound model ${rest} too big for destination`);
    const models = soundModels(ctx.rel, ctx.level);
    if (!models.includes(model)) fail(UNKNOWN_CAUSE);
    def.sounds.push({ model });
    rest = c >= 0 ? rest.slice(c + 1) : undefined;
  }
}

function parseUsb(root: Sx, def: DomainDef, rel: Release): void {
  const items = lookup(root, "domain/image/hvm");
  if (!items) return;
  for (const n of items) {
    if (!present(n, "usbdevice")) continue;
    const v = node(n, "usbdevice");
    if (v === "tablet" || v === "mouse") def.inputs.push({ type: v, bus: "usb" });
    else if (v === "keyboard" && inputTypes(rel).includes("keyboard")) def.inputs.push({ type: "keyboard", bus: "usb" });
  }
}

function parseChars(root: Sx, def: DomainDef, hvm: boolean, ctx: ParseContext): void {
  const tty: string | undefined = undefined;
  const rules: ChrRules = {
    types: chrTypes(ctx.rel, ctx.level),
    listenWord: ctx.level.has("chr-server-nowait") ? ",server" : ",listen",
    devPath: ctx.level.has("serial-ports"),
  };
  if (hvm) {
    let multiple = false;
    if (ctx.level.has("serial-ports")) {
      // several ports: (serial (A B …))
      const serialRoot = lookup(root, "domain/image/hvm/serial");
      if (serialRoot) {
        let skipped = 0;
        for (const group of serialRoot) {
          if (!Array.isArray(group)) continue;
          for (const item of group) {
            if (typeof item === "string" && item !== "none") {
              const chr: ChrDef = { deviceType: "serial", targetType: "serial", port: def.serials.length + skipped, source: parseChr(item, tty, rules) };
              def.serials.push(chr);
            } else skipped++;
            multiple = true;
          }
        }
      }
    }
    if (!multiple) {
      const s = node(root, "domain/image/hvm/serial");
      if (s !== undefined && s !== "none") {
        def.serials.push({ deviceType: "serial", targetType: "serial", port: 0, source: parseChr(s, tty, rules) });
      }
    }
    const par = node(root, "domain/image/hvm/parallel");
    if (par !== undefined && par !== "none") {
      def.parallels.push({ deviceType: "parallel", targetType: "serial", port: 0, source: parseChr(par, undefined, rules) });
    }
  } else if (ctx.rel === "0.8.7" || def.id !== 0) {
    def.consoles.push({ deviceType: "console", targetType: "xen", port: 0, source: parseChr("pty", tty, rules) });
  }
}

function lifecycle(root: Sx, path: string, table: readonly string[], dflt: string): string {
  const v = node(root, path);
  if (v === undefined) return dflt;
  if (!table.includes(v)) fail(`unknown lifecycle type ${v}`);
  return v;
}

export function xenParseSxpr(root: Sx, ctx: ParseContext): DomainDef {
  const def = emptyDomain();
  const domid = node(root, "domain/domid");
  if (domid === undefined && ctx.rel !== "4.5.0" && ctx.xendConfigVersion < 3) fail("domain information incomplete, missing id");
  def.id = domid !== undefined ? int(root, "domain/domid") : -1;

  const name = copyNode(root, "domain/name", ctx);
  if (name === undefined) fail("domain information incomplete, missing name");
  def.name = name;
  const uuid = node(root, "domain/uuid");
  if (uuid === undefined) fail("domain information incomplete, missing name");
  const u = parseUuid(uuid);
  if (!u.ok && ctx.level.has("uuid-checked")) fail(UNKNOWN_CAUSE);
  def.uuid = u.bytes;
  def.description = copyNode(root, "domain/description", ctx);

  const hvm = present(root, "domain/image/hvm");
  if (!hvm) {
    def.os.bootloader = copyNode(root, "domain/bootloader", ctx);
    if (def.os.bootloader === undefined && has(root, "domain/bootloader")) def.os.bootloader = "";
    if (def.os.bootloader !== undefined) def.os.bootloaderArgs = copyNode(root, "domain/bootloader_args", ctx);
  }
  def.os.type = hvm ? "hvm" : "linux";
  if (def.id !== 0 && present(root, "domain/image")) parseOS(root, def, hvm, ctx);

  // unsigned long (64-bit hosts) before v0.9.11, unsigned long long since: 64 bits either way.
  def.maxMemory = BigInt.asUintN(64, u64(root, "domain/maxmem") << 10n);
  def.curMemory = BigInt.asUintN(64, u64(root, "domain/memory") << 10n);
  if (def.curMemory > def.maxMemory) def.curMemory = def.maxMemory;

  // Before v1.3.1 the vcpu counts are `unsigned short`; v4.5.0 keeps an unsigned int.
  def.maxvcpus = ctx.rel === "4.5.0" ? int(root, "domain/vcpus") >>> 0 : int(root, "domain/vcpus") & 0xffff;
  def.vcpus = popcount64(u64(root, "domain/vcpu_avail"));
  if (!def.vcpus || def.maxvcpus < def.vcpus) def.vcpus = def.maxvcpus;

  // v4.5.0 has one action table for all three events.
  const lcTable = ctx.rel === "4.5.0" ? LIFECYCLE_CRASH_ACTIONS : LIFECYCLE_ACTIONS;
  def.onPoweroff = lifecycle(root, "domain/on_poweroff", lcTable, "destroy");
  def.onReboot = lifecycle(root, "domain/on_reboot", lcTable, "restart");
  def.onCrash = lifecycle(root, "domain/on_crash", LIFECYCLE_CRASH_ACTIONS, "destroy");

  if (hvm) {
    const known = domainFeatures(ctx.rel, ctx.level);
    for (const f of XEN_HVM_FEATURES) if (known.includes(f) && int(root, `domain/image/hvm/${f}`)) def.features.add(f);
  }
  def.clock = parseClock(root, hvm, ctx.clockRule, ctx.xendConfigVersion, ctx.warnings, ctx.level.has("top-level-localtime"));
  if (hvm && ctx.level.has("hpet") && present(root, "domain/image/hvm/hpet")) {
    def.clock.timers.push({ name: "hpet", present: int(root, "domain/image/hvm/hpet") });
  }

  def.emulator = copyNode(root, hvm ? "domain/image/hvm/device_model" : "domain/image/linux/device_model", ctx);

  parseDisks(root, def, hvm, ctx);
  parseNets(root, def, ctx);
  parsePci(root, def);
  parseGraphicsNew(root, def, ctx);
  if (def.graphics.length === 0) parseGraphicsOld(root, def, hvm, ctx);

  if (hvm && ctx.rel !== "4.5.0" && ctx.xendConfigVersion === 1) {
    const cd = node(root, "domain/image/hvm/cdrom");
    if (cd) {
      def.disks.push({ type: "file", device: "cdrom", src: cd, dst: "hdc", driverName: "file", bus: "ide", readonly: true, shared: false, transient: false });
    }
  }
  if (hvm && ctx.rel !== "4.5.0") {
    for (const fd of ["fda", "fdb"]) {
      const v = node(root, `domain/image/hvm/${fd}`);
      if (v) def.disks.push({ type: "file", device: "floppy", src: v, dst: fd, driverName: "file", bus: "fdc", readonly: false, shared: false, transient: false });
    }
  }
  // Before 0.7.1 (2d6adabd5) the parsed disks were sorted by bus, then by target index.
  if (!ctx.level.has("disk-insert")) sortDisksOld(def.disks);
  if (hvm) parseUsb(root, def, ctx.rel);
  parseChars(root, def, hvm, ctx);
  if (hvm) {
    const snd = node(root, "domain/image/hvm/soundhw");
    if (snd) parseSound(snd, def, ctx);
  }
  return def;
}

/**
 * xenParseSxprVifRate (v4.5.0): `<n>[GMK]?[Bb]/s`, optionally followed by `@interval`, into KB/s.
 */
export function parseVifRate(rate: string): bigint {
  const at = rate.indexOf("@");
  const head = at >= 0 ? rate.slice(0, at) : rate;
  if (!/^[0-9]+[GMK]?[Bb]\/s$/.test(head)) fail(`Invalid rate '${rate}' specified`);
  const m = /^[0-9]+/.exec(rate)!;
  let v = BigInt(m[0]);
  if (v > 0xffffffffffffffffn) fail(`Failed to parse rate '${rate}'`);
  const suffix = rate.slice(m[0].length);
  if (suffix[0] === "G") v *= 1024n * 1024n;
  else if (suffix[0] === "M") v *= 1024n;
  v = BigInt.asUintN(64, v);
  if (suffix[0] === "b" || suffix[1] === "b") v /= 8n;
  return v;
}

/**
 * virDomainNetAppendIPAddress → virSocketAddrParse and virSocketAddrFormat (v4.5.0). Dotted-quad IPv4
 * and IPv6 are handled; the other spellings getaddrinfo would take (e.g. `10.1`) are refused here.
 */
export function parseIpAddress(text: string): { text: string; family: "ipv4" | "ipv6" } {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.every((p) => p <= 255)) return { text: parts.join("."), family: "ipv4" };
  }
  if (text.includes(":") && isIPv6(text)) {
    return { text: new URL(`http://[${text}]/`).hostname.slice(1, -1), family: "ipv6" };
  }
  throw new HarnessError("libvirt.internal", `Cannot parse socket address '${text}': Name or service not known`);
}
