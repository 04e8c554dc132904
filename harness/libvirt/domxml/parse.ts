/**
 * libvirt's domain XML parser (src/conf/domain_conf.c), reduced to what the Xen SXPR formatter reads,
 * with the differences between the releases this project reproduces (0.8.7, 0.9.10, 0.9.11, 4.5.0).
 * The defaults and fix-ups are libvirt's: disks are kept sorted per bus by target index, an HVM
 * `<console>` becomes the first serial port, legacy `linux` os type means `xen`, `ioemu:` target
 * prefixes are dropped, a CD-ROM is always read-only, and so on. Written from reading libvirt's C;
 * messages are libvirt's own where a user could meet them.
 */
import { HarnessError, type ErrorCode } from "../../errors.js";
import type {
  BootDev,
  ChrDef,
  ChrSourceDef,
  ClockDef,
  DiskDef,
  DomainDef,
  GraphicsDef,
  HostdevDef,
  InputDef,
  IpDef,
  NetDef,
  OsDef,
  SoundDef,
  TimerDef,
} from "../def/index.js";
import { hexValue, inputTypes, netTypes, GRAPHICS_TYPES, LIFECYCLE_ACTIONS, LIFECYCLE_CRASH_ACTIONS, STORAGE_FORMATS, chrTypes, diskNameToIndexOld, domainFeatures, soundModels, sortDisksOld } from "../def/index.js";
import { levelAt, type BaseRelease as Release, type Gate, type Level } from "../releases.js";
import { allPath, attr, childElements, firstPath, parseXmlDocument, pathAttr, pathText, type XNode } from "./xml.js";

export interface ParseOptions {
  release: Release;
  file?: string;
  /** The release as the table reads it (what changed since the era's base); default: the base release. */
  level?: Level;
}

class Ctx {
  readonly level: Level;
  constructor(readonly release: Release, readonly file?: string, level?: Level) {
    this.level = level ?? levelAt(release);
  }
  has(g: Gate): boolean {
    return this.level.has(g);
  }
  get atLeast0910(): boolean {
    return this.release !== "0.8.7";
  }
  get atLeast0911(): boolean {
    return this.release === "0.9.11" || this.release === "4.5.0";
  }
  get is450(): boolean {
    return this.release === "4.5.0";
  }
}

function fail(code: ErrorCode, message: string): never {
  throw new HarnessError(code, message);
}
const internal = (m: string): never => fail("libvirt.internal", m);
const xmlError = (m: string): never => fail("libvirt.parse", m);
const unsupported = (m: string): never => fail("libvirt.unsupported", m);

/** strtoul-like unsigned decimal with the whole string consumed (virStrToLong_ul, base 10). */
function parseULong(s: string | undefined, base = 10): number | undefined {
  if (s === undefined) return undefined;
  const t = s.replace(/^\s+/, "");
  let m: RegExpMatchArray | null;
  if (base === 16) m = t.match(/^\+?(?:0[xX])?([0-9a-fA-F]+)$/);
  else if (base === 0) {
    m = t.match(/^\+?0[xX]([0-9a-fA-F]+)$/);
    if (m) return parseInt(m[1], 16);
    m = t.match(/^\+?(0[0-7]*)$/);
    if (m) return parseInt(m[1], 8);
    m = t.match(/^\+?([1-9][0-9]*)$/);
  } else m = t.match(/^\+?([0-9]+)$/);
  if (!m) return undefined;
  return parseInt(m[1], base === 16 ? 16 : 10);
}

/** virStrToLong_ull (base 10, the whole string): exact, as libvirt's unsigned long long. */
function parseULongBig(s: string | undefined): bigint | undefined {
  if (s === undefined) return undefined;
  const m = s.replace(/^\s+/, "").match(/^\+?([0-9]+)$/);
  return m ? BigInt(m[1]) : undefined;
}

function parseLong(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const m = s.replace(/^\s+/, "").match(/^([+-]?[0-9]+)$/);
  return m ? parseInt(m[1], 10) : undefined;
}

/** XPath `number(...)` converted to long long the way virXPathLongLong does (NaN → absent). */
function xpathNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(t)) return undefined;
  return Math.trunc(Number(t));
}

function parseUuid(s: string): Uint8Array {
  let i = 0;
  while (i < s.length && /\s/.test(s[i])) i++;
  const bytes = new Uint8Array(16);
  let n = 0;
  while (n < 16) {
    if (i >= s.length) return internal("malformed uuid element");
    if (s[i] === "-" || s[i] === " ") {
      i++;
      continue;
    }
    const hi = hexValue(s.charCodeAt(i));
    const lo = i + 1 < s.length ? hexValue(s.charCodeAt(i + 1)) : -1;
    if (hi < 0 || lo < 0) return internal("malformed uuid element");
    bytes[n++] = hi * 16 + lo;
    i += 2;
  }
  for (; i < s.length; i++) if (!/\s/.test(s[i])) return internal("malformed uuid element");
  return bytes;
}

function randomUuid(): Uint8Array {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  return bytes;
}

function parseMac(s: string): number[] {
  const parts = s.split(":");
  const out: number[] = [];
  if (parts.length !== 6) return internal(`unable to parse mac address '${s}'`);
  for (const p of parts) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return internal(`unable to parse mac address '${s}'`);
    out.push(parseInt(p, 16));
  }
  return out;
}

/** `<vcpu cpuset>`: `0-3,^2,8` (virDomainCpuSetParse; 4.5.0's virBitmapParse also refuses an empty set). */
function parseCpuSet(ctx: Ctx, s: string, max: number): number[] {
  const set = new Set<number>();
  const bad = (): never => (ctx.is450 ? xmlError(`Failed to parse bitmap '${s}'`) : internal("topology cpuset syntax error"));
  if (s.trim() === "") bad();
  for (const raw of s.split(",")) {
    const item = raw.replace(/^\s+/, "").replace(/\s+$/, "");
    const m = item.match(/^(\^?)(\d+)(?:\s*-\s*(\d+))?$/);
    if (!m) bad();
    const neg = m![1] === "^";
    const a = Number(m![2]);
    const b = m![3] !== undefined ? Number(m![3]) : a;
    if (neg && m![3] !== undefined) bad();
    if (a >= max || b >= max || b < a) bad();
    for (let c = a; c <= b; c++) (neg ? set.delete(c) : set.add(c));
  }
  if (ctx.is450 && set.size === 0) unsupported(`Invalid value of 'cpuset': ${s}`);
  return [...set].sort((x, y) => x - y);
}

/** virScaleInteger + round up to KiB (virDomainParseMemory, 0.9.11+). */
function scaleToKiB(value: bigint, unit: string | undefined): bigint {
  let scale = 1024n;
  if (unit !== undefined && unit !== "") {
    const u = unit.toLowerCase();
    const powers: Record<string, number> = { b: 0, k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };
    const p = powers[u[0]];
    const rest = u.slice(1);
    if (p === undefined) return internal(`unknown suffix '${unit}'`);
    if (u[0] === "b") {
      if (rest !== "" && rest !== "ytes" && rest !== "yte") return internal(`unknown suffix '${unit}'`);
      scale = 1n;
    } else if (rest === "" || rest === "ib") scale = 1024n ** BigInt(p);
    else if (rest === "b") scale = 1000n ** BigInt(p);
    else return internal(`unknown suffix '${unit}'`);
  }
  return divUp(value * scale, 1024n);
}

function divUp(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

function parseMemory(ctx: Ctx, root: XNode, name: string, required: boolean): bigint | undefined {
  const text = pathText(root, [name]);
  const v = parseULongBig(text);
  if (v === undefined) {
    if (required) return ctx.is450 ? xmlError("Memory size must be specified via <memory> or in the <numa> configuration") : internal("missing memory element");
    return undefined;
  }
  if (!ctx.atLeast0911) return v;
  return scaleToKiB(v, pathAttr(root, [name], "unit"));
}


/** on_poweroff / on_reboot / on_crash: `event` is libvirt 4.5.0's name for the event in its messages. */
function lifecycle(ctx: Ctx, root: XNode, name: string, dflt: string, allowed: readonly string[], event: string): string {
  const v = pathText(root, [name]);
  if (v === undefined) return dflt;
  if (ctx.is450) {
    if (!LIFECYCLE_CRASH_ACTIONS.includes(v)) return unsupported(`unknown ${name} action: ${v}`);
    if (!allowed.includes(v)) return unsupported(`Lifecycle event '${event}' doesn't support '${v}' action`);
    return v;
  }
  if (!allowed.includes(v)) return internal(`unknown lifecycle action ${v}`);
  return v;
}


function parseFeatures(ctx: Ctx, root: XNode): Set<string> {
  const out = new Set<string>();
  const known = domainFeatures(ctx.release, ctx.level);
  for (const f of allPath(root, ["features"]).flatMap((n) => childElements(n))) {
    if (!known.includes(f.nodeName)) {
      return ctx.is450 ? unsupported(`unexpected feature '${f.nodeName}'`) : internal(`unexpected feature ${f.nodeName}`);
    }
    let on = true;
    // 4.5.0: these take a tristate `state` (default / on / off); the rest are on when present
    if (ctx.is450 && ["vmcoreinfo", "hap", "pmu", "pvspinlock", "vmport", "smm"].includes(f.nodeName)) {
      const state = attr(f, "state");
      if (state !== undefined) {
        if (!["default", "on", "off"].includes(state)) return unsupported(`unknown state attribute '${state}' of feature '${f.nodeName}'`);
        on = state === "on";
      }
    }
    if (on) out.add(f.nodeName);
  }
  return out;
}

function parseClock(ctx: Ctx, root: XNode): ClockDef {
  const clock: ClockDef = { offset: "utc", adjustment: 0, basis: "utc", utcReset: false, timers: [] };
  const offsets = ["utc", "localtime", "variable", "timezone"];
  const off = pathAttr(root, ["clock"], "offset");
  if (!ctx.has("clock-offset-enum")) {
    // before 0.7.7 the offset was a flag: exactly 'localtime' or else utc, nothing else read
    if (off === "localtime") clock.offset = "localtime";
    return clock;
  }
  if (off !== undefined) {
    if (!offsets.includes(off)) return internal(`unknown clock offset '${off}'`);
    clock.offset = off as ClockDef["offset"];
  }
  const adjText = pathAttr(root, ["clock"], "adjustment");
  switch (clock.offset) {
    case "utc":
    case "localtime":
      if (ctx.atLeast0911 && adjText !== undefined) {
        if (adjText === "reset") clock.utcReset = true;
        else {
          const v = /^\s*[+-]?\d+$/.test(adjText) ? parseInt(adjText, 10) : undefined;
          if (v === undefined) return internal(`unknown clock adjustment '${adjText}'`);
          clock.basis = clock.offset;
          clock.offset = "variable";
          clock.adjustment = v;
        }
      }
      break;
    case "variable": {
      clock.adjustment = xpathNumber(adjText) ?? 0;
      if (ctx.atLeast0911) {
        const basis = pathAttr(root, ["clock"], "basis");
        if (basis !== undefined) {
          if (basis !== "utc" && basis !== "localtime") return internal(`unknown clock basis '${basis}'`);
          clock.basis = basis;
        }
      }
      break;
    }
    case "timezone":
      clock.timezone = pathAttr(root, ["clock"], "timezone");
      if (clock.timezone === undefined) return internal("missing 'timezone' attribute for clock with offset='timezone'");
      break;
  }
  const names = ["platform", "pit", "rtc", "hpet", "tsc", ...(ctx.has("kvmclock") ? ["kvmclock"] : []), ...(ctx.is450 ? ["hypervclock"] : [])];
  if (!ctx.has("clock-timers")) return clock;
  for (const t of allPath(root, ["clock", "timer"])) {
    const name = attr(t, "name");
    if (name === undefined) return internal("missing timer name");
    if (!names.includes(name)) return internal(`unknown timer name '${name}'`);
    const p = attr(t, "present");
    let present: TimerDef["present"] = -1;
    if (p !== undefined) {
      if (p === "yes") present = 1;
      else if (p === "no") present = 0;
      else return internal(`unknown timer present value '${p}'`);
    }
    clock.timers.push({ name, present });
  }
  return clock;
}

function parseBoot(root: XNode): BootDev[] {
  const nodes = allPath(root, ["os", "boot"]);
  const out: BootDev[] = [];
  for (const n of nodes.slice(0, 4)) {
    const dev = attr(n, "dev");
    if (dev === undefined) return internal("missing boot device");
    if (!["fd", "hd", "cdrom", "network"].includes(dev)) return internal(`unknown boot device '${dev}'`);
    out.push(dev as BootDev);
  }
  if (out.length === 0) {
    // per-device <boot order> leaves the list empty (the formatter then writes `c` all the same)
    const perDevice = allPath(root, ["devices"]).flatMap((d) => childElements(d)).some((d) => childElements(d, "boot").length > 0);
    if (!perDevice) out.push("hd");
  }
  return out;
}


function insertDisk(disks: DiskDef[], disk: DiskDef): void {
  let insertAt = -1;
  for (let i = disks.length - 1; i >= 0; i--) {
    if (disks[i].bus === disk.bus && diskNameToIndexOld(disks[i].dst) > diskNameToIndexOld(disk.dst)) insertAt = i;
    else if (disks[i].bus === disk.bus && insertAt === -1) insertAt = i + 1;
  }
  if (insertAt === -1) insertAt = disks.length;
  disks.splice(insertAt, 0, disk);
}

function parseDisk(ctx: Ctx, node: XNode): DiskDef {
  const typeAttr = attr(node, "type");
  const types = ["file", "block", "dir", "network", ...(ctx.is450 ? ["volume"] : [])];
  let type: DiskDef["type"] = "file";
  if (typeAttr !== undefined) {
    if (!types.includes(typeAttr)) return internal(`unknown disk type '${typeAttr}'`);
    type = typeAttr as DiskDef["type"];
  }
  let src: string | undefined;
  let sourceSeen = false;
  let target: string | undefined;
  let bus: string | undefined;
  let driverName: string | undefined;
  let driverType: string | undefined;
  let driverSeen = false;
  let targetSeen = false;
  let readonly = false;
  let shared = false;
  let transient = false;
  for (const cur of childElements(node)) {
    switch (cur.nodeName) {
      case "source":
        if (sourceSeen) break;
        sourceSeen = true;
        switch (type) {
          case "file":
            src = attr(cur, "file");
            break;
          case "block":
            src = attr(cur, "dev");
            break;
          case "dir":
            src = attr(cur, "dir");
            break;
          case "network":
            src = attr(cur, "name");
            break;
          case "volume":
            src = attr(cur, "volume");
            break;
        }
        if (src === "") src = undefined;
        if (src === undefined && ctx.release !== "4.5.0") sourceSeen = type === "network" ? sourceSeen : false;
        break;
      case "target":
        if (targetSeen) break;
        targetSeen = true;
        target = attr(cur, "dev");
        bus = attr(cur, "bus");
        if (target !== undefined && target.startsWith("ioemu:")) target = target.slice(6);
        break;
      case "driver":
        if (driverSeen) break;
        driverSeen = true;
        driverName = attr(cur, "name");
        driverType = attr(cur, "type");
        break;
      case "readonly":
        readonly = true;
        break;
      case "shareable":
        shared = true;
        break;
      case "transient":
        transient = true;
        break;
    }
  }
  const deviceAttr = attr(node, "device");
  let device: DiskDef["device"] = "disk";
  if (deviceAttr !== undefined) {
    if (!["disk", "cdrom", "floppy", "lun"].includes(deviceAttr) || (!ctx.has("disk-lun") && deviceAttr === "lun")) {
      return internal(`unknown disk device '${deviceAttr}'`);
    }
    device = deviceAttr as DiskDef["device"];
  }
  if (src === undefined && device !== "cdrom" && device !== "floppy") {
    return fail("libvirt.internal", target !== undefined ? `missing source information for device ${target}` : "missing source information for device");
  }
  if (target === undefined) return fail("libvirt.internal", src !== undefined ? `missing target information for device ${src}` : "missing target information for device");
  if (device === "floppy" && !target.startsWith("fd")) return internal(`Invalid floppy device name: ${target}`);
  if (device === "cdrom") readonly = true;
  if ((device === "disk" || device === "lun") && !["hd", "sd", "vd", "xvd", "ubd"].some((p) => target!.startsWith(p))) {
    return internal(`Invalid harddisk device name: ${target}`);
  }
  const buses = ["ide", "fdc", "scsi", "virtio", "xen", "usb", "uml", "sata", ...(ctx.is450 ? ["sd"] : [])];
  let busName: string;
  if (bus !== undefined) {
    if (!buses.includes(bus)) return internal(`unknown disk bus type '${bus}'`);
    busName = bus;
  } else if (device === "floppy") busName = "fdc";
  else if (target.startsWith("hd")) busName = "ide";
  else if (target.startsWith("sd")) busName = "scsi";
  else if (target.startsWith("vd")) busName = "virtio";
  else if (target.startsWith("xvd")) busName = "xen";
  else if (target.startsWith("ubd")) busName = "uml";
  else busName = "ide";
  if (device === "floppy" && busName !== "fdc") return internal(`Invalid bus type '${bus}' for floppy disk`);
  if (device !== "floppy" && busName === "fdc") return internal(`Invalid bus type '${bus}' for disk`);
  if (driverName === "") driverName = undefined;
  if (ctx.is450) {
    // 4.5.0 keeps a storage format; `aio` is Xen's old name for raw, and libxl's post-parse makes
    // an unset format raw. The formatter writes `aio` for raw.
    if (driverType !== undefined && driverType !== "") {
      if (driverType === "aio") driverType = "raw";
      if (!STORAGE_FORMATS.includes(driverType)) return unsupported(`unknown driver format value '${driverType}'`);
    } else driverType = "raw";
  } else if (driverType === "") driverType = undefined;
  return { type, device, src, dst: target, bus: busName, driverName, driverType, readonly, shared, transient };
}

function parseNet(ctx: Ctx, node: XNode): NetDef {
  const typeAttr = attr(node, "type");
  const types = netTypes(ctx.release);
  const type = typeAttr ?? "user";
  if (!types.includes(type)) return internal(`unknown interface type '${type}'`);
  let mac: string | undefined;
  let network: string | undefined;
  let bridge: string | undefined;
  let sourceSeen = false;
  const ips: IpDef[] = [];
  let ifname: string | undefined;
  let ifnameSeen = false;
  let script: string | undefined;
  let model: string | undefined;
  let outboundAverage: bigint | undefined;
  for (const cur of childElements(node)) {
    switch (cur.nodeName) {
      case "mac":
        if (mac === undefined) mac = attr(cur, "address");
        break;
      case "source":
        if (sourceSeen) break;
        if (type === "network") {
          sourceSeen = true;
          network = attr(cur, "network");
        } else if (type === "bridge") {
          sourceSeen = true;
          bridge = attr(cur, "bridge");
        }
        break;
      case "ip":
        if (type === "ethernet" || type === "bridge" || ctx.is450) {
          const a = attr(cur, "address");
          if (a !== undefined && (ctx.is450 || ips.length === 0)) ips.push({ address: a });
        }
        break;
      case "target":
        if (ifnameSeen) break;
        ifnameSeen = true;
        ifname = attr(cur, "dev");
        // an auto-generated name is blanked in inactive XML (the test capabilities set no Xen prefix)
        if (ifname !== undefined && ifname.startsWith("vnet")) ifname = undefined;
        break;
      case "script":
        if (script === undefined) script = attr(cur, "path");
        break;
      case "model":
        model = attr(cur, "type");
        break;
      case "bandwidth":
        for (const o of childElements(cur, "outbound")) {
          const avg = parseULongBig(attr(o, "average"));
          if (avg !== undefined) outboundAverage = avg;
        }
        break;
    }
  }
  const macBytes = mac !== undefined ? parseMac(mac) : [0x00, 0x16, 0x3e, ...[0, 1, 2].map(() => Math.floor(Math.random() * 256))];
  if (type === "network" && network === undefined) return internal("No <source> 'network' attribute specified with <interface type='network'/>");
  if (type === "bridge" && bridge === undefined) return internal("No <source> 'bridge' attribute specified with <interface type='bridge'/>");
  if (!ctx.atLeast0910 && type !== "bridge" && type !== "ethernet") script = undefined;
  if (model !== undefined && !/^[a-zA-Z0-9_\-]*$/.test(model)) {
    return fail("libvirt.internal", "Model name contains invalid characters");
  }
  return { type, mac: macBytes, bridge, network, ips, script, ifname, model, outboundAverage };
}

/** 4.5.0: each <source> is read on its own (its own mode); validation happens afterwards. */
function parseChrSource450(type: string, node: XNode): ChrSourceDef {
  const src: ChrSourceDef = { type };
  let sources = 0;
  let protocolSeen = false;
  const modeOf = (cur: XNode): "connect" | "bind" => {
    const m = attr(cur, "mode");
    if (m === undefined || m === "connect") return "connect";
    if (m === "bind") return "bind";
    return internal(`Unknown source mode '${m}'`);
  };
  for (const cur of childElements(node)) {
    if (cur.nodeName === "source") {
      if (sources >= 1 && type !== "udp") return xmlError("only one source element is allowed for character device");
      if (sources >= 2) return xmlError("only two source elements are allowed for character device");
      sources++;
      switch (type) {
        case "file":
        case "dev":
        case "pipe":
          src.path = attr(cur, "path");
          break;
        case "unix":
          src.listen = modeOf(cur) === "bind";
          src.path = attr(cur, "path");
          break;
        case "udp": {
          const m = modeOf(cur);
          if (m === "connect" && src.connectHost === undefined && src.connectService === undefined) {
            src.connectHost = attr(cur, "host");
            src.connectService = attr(cur, "service");
          } else if (m === "bind" && src.bindHost === undefined && src.bindService === undefined) {
            src.bindHost = attr(cur, "host");
            src.bindService = attr(cur, "service");
          }
          break;
        }
        case "tcp":
          src.listen = modeOf(cur) === "bind";
          src.host = attr(cur, "host");
          src.service = attr(cur, "service");
          break;
      }
    } else if (cur.nodeName === "protocol") {
      if (protocolSeen) return xmlError("only one log element is allowed for character device");
      protocolSeen = true;
      const p = attr(cur, "type");
      if (p !== undefined) {
        if (!["raw", "telnet", "telnets", "tls"].includes(p)) return internal(`Unknown protocol '${p}'`);
        src.protocol = p as ChrSourceDef["protocol"];
      }
    }
  }
  if (type === "tcp") src.protocol ??= "raw";
  switch (type) {
    case "file":
    case "dev":
    case "pipe":
      if (src.path === undefined) return internal("Missing source path attribute for char device");
      break;
    case "tcp":
      if (src.host === undefined) return internal("Missing source host attribute for char device");
      if (src.service === undefined) return internal("Missing source service attribute for char device");
      break;
    case "udp":
      if (src.connectService === undefined) return internal("Missing source service attribute for char device");
      break;
    case "unix":
      if (src.path === undefined) return internal("Missing source path attribute for char device");
      break;
  }
  return src;
}

function parseChrSource(ctx: Ctx, type: string, node: XNode): ChrSourceDef {
  const src: ChrSourceDef = { type };
  let mode: string | undefined;
  let path: string | undefined;
  let protocol: string | undefined;
  for (const cur of childElements(node)) {
    if (cur.nodeName === "source") {
      const m = attr(cur, "mode");
      if (mode === undefined) mode = m;
      switch (type) {
        case "pty":
        case "dev":
        case "file":
        case "pipe":
        case "unix":
          // a pty's path is only read from live XML; the harness always parses inactive definitions
          if (path === undefined && type !== "pty") path = attr(cur, "path");
          break;
        case "udp":
        case "tcp": {
          const sm = ctx.is450 ? m : mode;
          if (sm === undefined || sm === "connect") {
            src.connectHost ??= attr(cur, "host");
            src.connectService ??= attr(cur, "service");
          } else if (sm === "bind") {
            src.bindHost ??= attr(cur, "host");
            src.bindService ??= attr(cur, "service");
          } else return internal(`Unknown source mode '${sm}'`);
          if (type === "udp" && !ctx.is450) mode = undefined;
          break;
        }
      }
    } else if (cur.nodeName === "protocol") {
      protocol ??= attr(cur, "type");
    }
  }
  switch (type) {
    case "pty":
    case "dev":
    case "file":
    case "pipe":
      if (path === undefined && type !== "pty") return internal("Missing source path attribute for char device");
      src.path = path;
      break;
    case "tcp":
      if (mode === undefined || mode === "connect") {
        if (src.connectHost === undefined) return internal("Missing source host attribute for char device");
        if (src.connectService === undefined) return internal("Missing source service attribute for char device");
        src.host = src.connectHost;
        src.service = src.connectService;
        src.listen = false;
      } else {
        if (src.bindHost === undefined) return internal("Missing source host attribute for char device");
        if (src.bindService === undefined) return internal("Missing source service attribute for char device");
        src.host = src.bindHost;
        src.service = src.bindService;
        src.listen = true;
      }
      if (protocol === undefined) src.protocol = "raw";
      else if (["raw", "telnet", "telnets", "tls"].includes(protocol)) src.protocol = protocol as ChrSourceDef["protocol"];
      else return internal(`Unknown protocol '${protocol}'`);
      break;
    case "udp":
      if (src.connectService === undefined) return internal("Missing source service attribute for char device");
      break;
    case "unix":
      if (path === undefined) return internal("Missing source path attribute for char device");
      src.listen = mode !== undefined && mode !== "connect";
      src.path = path;
      break;
  }
  return src;
}


function parseChr(ctx: Ctx, node: XNode, osType: string): ChrDef {
  const t = attr(node, "type");
  const types = chrTypes(ctx.release, ctx.level);
  let type = t ?? "pty";
  if (!types.includes(type)) {
    // 0.8.7 silently took an unknown type as `null`
    if (ctx.atLeast0910) return xmlError(`unknown type presented to host for character device: ${type}`);
    type = "null";
  }
  const deviceType = node.nodeName as ChrDef["deviceType"];
  const source = ctx.is450 ? parseChrSource450(type, node) : parseChrSource(ctx, type, node);
  const chr: ChrDef = { deviceType, port: -1, source };
  const target = childElements(node, "target")[0];
  if (target) {
    const tt = attr(target, "type");
    if (deviceType === "console") chr.targetType = tt ?? (osType === "hvm" ? "serial" : "xen");
    else chr.targetType = tt;
    if (deviceType !== "channel") {
      const port = attr(target, "port");
      if (port !== undefined) {
        const p = parseULong(port);
        if (p === undefined) return xmlError(`Invalid port number: ${port}`);
        chr.port = p;
      }
    }
  } else if (deviceType === "console") {
    // the Xen test capabilities make an HVM console a serial one, a PV console a xen one
    chr.targetType = osType === "hvm" ? "serial" : "xen";
  }
  return chr;
}

function parseInput(ctx: Ctx, node: XNode, osType: string): InputDef {
  const type = attr(node, "type");
  const bus = attr(node, "bus");
  if (type === undefined) return internal("missing input device type");
  const types = inputTypes(ctx.release);
  if (!types.includes(type)) return internal(`unknown input device type '${type}'`);
  let b: InputDef["bus"];
  if (bus !== undefined) {
    if (!["ps2", "usb", "xen", ...(ctx.is450 ? ["parallels", "virtio"] : [])].includes(bus)) return internal(`unknown input bus type '${bus}'`);
    if (osType === "hvm") {
      if (bus === "ps2" && type !== "mouse" && !(ctx.is450 && type === "keyboard")) return internal(`ps2 bus does not support ${type} input device`);
      if (bus === "xen") return internal(`unsupported input bus ${bus}`);
    } else {
      if (bus !== "xen" && !(ctx.is450)) return internal(`unsupported input bus ${bus}`);
      if (type !== "mouse" && !(ctx.is450)) return internal(`xen bus does not support ${type} input device`);
    }
    b = bus as InputDef["bus"];
  } else b = osType === "hvm" ? (type === "mouse" || (ctx.is450 && type === "keyboard") ? "ps2" : "usb") : "xen";
  return { type: type as InputDef["type"], bus: b };
}

function parseGraphics(ctx: Ctx, node: XNode): GraphicsDef {
  const type = attr(node, "type");
  if (type === undefined) return internal("missing graphics device type");
  if (!GRAPHICS_TYPES.includes(type)) return internal(`unknown graphics device type '${type}'`);
  const g: GraphicsDef = { type: type as GraphicsDef["type"], port: 0, autoport: false, fullscreen: false, listens: [] };
  // The address libvirt's formatter asks for (virDomainGraphicsListenGetAddress of the first listen).
  let address: string | undefined;
  if (type === "vnc" || (ctx.atLeast0910 && (type === "rdp" || type === "spice"))) {
    let listen = attr(node, "listen");
    // 0.9.x and later drop an empty listen attribute; 0.8.7 keeps it (and writes `(vnclisten '')`)
    if (listen === "" && ctx.has("graphics-listen")) listen = undefined;
    const listens = childElements(node, "listen");
    if (ctx.has("graphics-listen") && listens.length > 0) {
      const first = listens.find((l) => (attr(l, "type") ?? "address") === "address");
      const addr = first ? attr(first, "address") : undefined;
      if (listen !== undefined && addr !== listen) {
        return xmlError(`graphics listen attribute ${listen} must match address attribute of first listen element (found ${addr ?? "none"})`);
      }
      // 0.9.x: only an address-type first listen gives an address; 4.5.0 takes the first listen's address
      address = ctx.is450 || attr(listens[0], "type") === "address" ? attr(listens[0], "address") : undefined;
    } else address = listen;
    if (address !== undefined) g.listens.push({ type: "address", address });
  }
  if (type === "vnc") {
    const port = attr(node, "port");
    if (port !== undefined) {
      const p = parseLong(port);
      if (p === undefined) return internal(`cannot parse vnc port ${port}`);
      g.port = p;
      if (p === -1) {
        g.port = 0;
        g.autoport = true;
      }
    } else {
      g.port = 0;
      g.autoport = true;
    }
    const autoport = attr(node, "autoport");
    if (autoport === "yes") {
      g.port = 0;
      g.autoport = true;
    } else if (ctx.is450 && autoport !== undefined) g.autoport = false;
    g.keymap = attr(node, "keymap");
    g.passwd = attr(node, "passwd");
  } else if (type === "sdl") {
    g.xauth = attr(node, "xauth");
    g.display = attr(node, "display");
  }
  return g;
}


function parseHostdev(ctx: Ctx, node: XNode): HostdevDef {
  const mode = attr(node, "mode") ?? "subsystem";
  if (mode !== "subsystem" && mode !== "capabilities") return internal(`unknown hostdev mode '${mode}'`);
  const type = attr(node, "type");
  if (mode === "subsystem") {
    if (type === undefined) return internal("missing type in hostdev");
    if (!["usb", "pci", ...(ctx.is450 ? ["scsi", "scsi_host", "mdev"] : [])].includes(type)) return internal(`unknown host device source address type '${type}'`);
  }
  const managed = attr(node, "managed") === "yes";
  const hd: HostdevDef = { mode, type: type ?? "", managed };
  if (mode === "subsystem" && type === "pci") {
    const address = firstPath(node, ["source", "address"]);
    if (!address) return internal("pci address needs to be specified");
    const num = (name: string): number => {
      const v = attr(address, name);
      if (v === undefined) return 0;
      const n = parseULong(v, 0);
      if (n === undefined) return internal(`Cannot parse <address> '${name}' attribute`);
      return n;
    };
    hd.pci = { domain: num("domain"), bus: num("bus"), slot: num("slot"), function: num("function") };
  }
  return hd;
}

export function parseDomainXml(text: string, opts: ParseOptions): DomainDef {
  const ctx = new Ctx(opts.release, opts.file, opts.level);
  const root = parseXmlDocument(text, opts.file);
  if (root.nodeName !== "domain") {
    return ctx.has("root-element-message") ? xmlError(`unexpected root element <${root.nodeName}>, expecting <domain>`) : xmlError("incorrect root element");
  }
  const virtType = attr(root, "type");
  if (virtType === undefined || virtType === "") return internal("missing domain type attribute");
  const virtTypes = ["qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test", "vmware", "hyperv", "vbox", "one", "phyp", "parallels", "bhyve", "vz"];
  if (!virtTypes.includes(virtType)) return internal(`invalid domain type ${virtType}`);
  if (virtType !== "xen") return internal(`unexpected domain type ${virtType}, expecting xen`);

  const name = pathText(root, ["name"]);
  if (name === undefined) return fail("libvirt.internal", "missing domain name information");
  const uuidText = pathText(root, ["uuid"]);
  const uuid = uuidText === undefined ? randomUuid() : parseUuid(uuidText);
  if (ctx.has("title")) {
    const title = pathText(root, ["title"]);
    if (title !== undefined && title.includes("\n")) xmlError("Domain title can't contain newlines");
  }
  const description = pathText(root, ["description"]);

  const maxMemory = parseMemory(ctx, root, "memory", true)!;
  let curMemory = parseMemory(ctx, root, "currentMemory", false);
  if (!ctx.atLeast0911) curMemory ??= maxMemory;
  else {
    if (curMemory === undefined || curMemory === 0n) curMemory = maxMemory;
    else if (curMemory > maxMemory) {
      if (!ctx.is450 && divUp(curMemory, 1024n) > divUp(maxMemory, 1024n)) {
        return xmlError(`current memory '${curMemory}k' exceeds maximum '${maxMemory}k'`);
      }
      curMemory = maxMemory;
    }
  }

  const vcpuText = pathText(root, ["vcpu"]);
  let maxvcpus = 1;
  if (vcpuText !== undefined) {
    const v = parseULong(vcpuText);
    if (v === undefined) return xmlError("maximum vcpus must be an integer");
    if (v === 0) return xmlError(`invalid maxvcpus ${v}`);
    maxvcpus = v;
  }
  let vcpus = maxvcpus;
  const curText = pathAttr(root, ["vcpu"], "current");
  if (curText !== undefined) {
    const v = parseULong(curText);
    if (v === undefined) return xmlError("current vcpus must be an integer");
    if (v === 0) return xmlError(`invalid current vcpus ${v}`);
    if (v > maxvcpus) return internal(`maxvcpus must not be less than current vcpus (${maxvcpus} < ${v})`);
    vcpus = v;
  }
  const cpusetText = pathAttr(root, ["vcpu"], "cpuset");
  const cpumask = cpusetText !== undefined ? parseCpuSet(ctx, cpusetText, ctx.is450 ? 4096 : 1024) : undefined;

  const features = parseFeatures(ctx, root);
  const onReboot = lifecycle(ctx, root, "on_reboot", "restart", LIFECYCLE_ACTIONS, "reboot");
  const onPoweroff = lifecycle(ctx, root, "on_poweroff", "destroy", LIFECYCLE_ACTIONS, "poweroff");
  const onCrash = lifecycle(ctx, root, "on_crash", "destroy", LIFECYCLE_CRASH_ACTIONS, "crash");
  const clock = parseClock(ctx, root);

  const bootloader = pathText(root, ["bootloader"]);
  const bootloaderArgs = pathText(root, ["bootloader_args"]);
  let osType = pathText(root, ["os", "type"]);
  if (osType === undefined) {
    if (bootloader !== undefined) osType = "xen";
    else return fail("libvirt.internal", "no OS type");
  }
  if (osType === "linux") osType = "xen";
  if (osType !== "hvm" && osType !== "xen") return fail("libvirt.internal", `unknown OS type ${osType}`);
  const os: OsDef = {
    type: osType,
    bootloader,
    bootloaderArgs,
    kernel: pathText(root, ["os", "kernel"]),
    initrd: pathText(root, ["os", "initrd"]),
    cmdline: pathText(root, ["os", "cmdline"]),
    root: pathText(root, ["os", "root"]),
    loader: pathText(root, ["os", "loader"]),
    bootDevs: osType === "hvm" ? parseBoot(root) : [],
  };
  if (ctx.is450 && os.loader === undefined && firstPath(root, ["os", "loader"])) {
    // 4.5.0 keeps a <loader> element without a path as a loader with a NULL path ("" here)
    os.loader = "";
  }
  const emulator = pathText(root, ["devices", "emulator"]);

  const disks: DiskDef[] = [];
  for (const n of allPath(root, ["devices", "disk"])) {
    // Before 0.7.1 (2d6adabd5) the disks were appended, then sorted by bus and target index; from
    // 0.7.1 they stay in document order, until 0.9.2 (c1a98d882) inserts each by bus and target index.
    if (ctx.has("xml-disk-insert")) insertDisk(disks, parseDisk(ctx, n));
    else disks.push(parseDisk(ctx, n));
  }
  if (!ctx.has("disk-insert")) {
    sortDisksOld(disks);
  }
  const nets = allPath(root, ["devices", "interface"]).map((n) => parseNet(ctx, n));

  const parallels: ChrDef[] = [];
  for (const n of allPath(root, ["devices", "parallel"])) {
    const chr = parseChr(ctx, n, osType);
    if (chr.port === -1) chr.port = Math.max(-1, ...parallels.map((p) => p.port)) + 1;
    parallels.push(chr);
  }
  const serials: ChrDef[] = [];
  for (const n of allPath(root, ["devices", "serial"])) {
    const chr = parseChr(ctx, n, osType);
    if (chr.port === -1) chr.port = Math.max(-1, ...serials.map((p) => p.port)) + 1;
    serials.push(chr);
  }
  const consoles: ChrDef[] = [];
  // 0.8.7 reads only the first <console>; later releases read them all
  const consoleNodes = allPath(root, ["devices", "console"]).slice(0, ctx.has("multiple-consoles") ? undefined : 1);
  consoleNodes.forEach((n, i) => {
    const chr = parseChr(ctx, n, osType!);
    if (osType === "hvm" && chr.targetType === "serial") {
      if (i !== 0) unsupported("Only the first console can be a serial port");
      if (serials.length === 0) {
        serials.push({ ...chr, deviceType: "serial", port: 0 });
      }
      consoles.push({ deviceType: "console", targetType: "serial", port: i, source: { type: "pty" } });
      return;
    }
    chr.port = i;
    consoles.push(chr);
  });

  const inputs: InputDef[] = [];
  for (const n of allPath(root, ["devices", "input"])) {
    const input = parseInput(ctx, n, osType);
    if ((osType === "hvm" && input.bus === "ps2" && input.type === "mouse") || (osType !== "hvm" && input.bus === "xen" && input.type === "mouse")) continue;
    inputs.push(input);
  }
  const graphics = allPath(root, ["devices", "graphics"]).map((n) => parseGraphics(ctx, n));

  const sounds: SoundDef[] = [];
  for (const n of allPath(root, ["devices", "sound"])) {
    const model = attr(n, "model");
    if (model === undefined) return internal("missing sound model");
    if (!soundModels(ctx.release, ctx.level).includes(model)) return internal(`unknown sound model '${model}'`);
    // Before 0.7.6 (4359900ed) the parser dropped a sound device whose model was already listed.
    if (!ctx.has("sound-duplicates") && sounds.some((s) => s.model === model)) continue;
    sounds.push({ model });
  }
  const hostdevs = allPath(root, ["devices", "hostdev"]).map((n) => parseHostdev(ctx, n));

  if (ctx.is450 && ctx.has("libxl-defaults") && osType === "hvm") features.add("pae");

  return {
    id: -1,
    virtType,
    name,
    uuid,
    description,
    maxMemory,
    curMemory,
    maxvcpus,
    vcpus,
    cpumask,
    features,
    onPoweroff,
    onReboot,
    onCrash,
    clock,
    os,
    emulator,
    disks,
    controllers: [],
    nets,
    serials,
    parallels,
    consoles,
    inputs,
    graphics,
    sounds,
    videos: [],
    hostdevs,
  };
}

