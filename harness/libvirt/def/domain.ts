/**
 * The domain definition both directions share, shaped after libvirt's own `virDomainDef`
 * (src/conf/domain_conf.h): the domain XML parser (../domxml/parse.ts) and the SXPR parser
 * (../sxpr/parse.ts) fill it, the SXPR formatter (../sxpr/format.ts) and the domain XML formatter
 * (../domxml/format.ts) read it. It holds only what libvirt's Xen SXPR code reads or fills; a field one
 * side never sets keeps its empty value (e.g. the SXPR parser sets no `cpumask`, the XML parser no
 * `controllers`), as in libvirt, where both sides also share one struct and use a part of it.
 *
 * Values are those libvirt keeps: sizes in KiB as `unsigned long long` (bigint), enums as libvirt's XML
 * names, absent strings as undefined (libvirt's NULL). The exceptions are in ../DECISIONS.md.
 */

/** virDomainClockOffsetType. */
export type ClockOffset = "utc" | "localtime" | "variable" | "timezone";

/** virDomainTimerDef: only the name and its tri-state `present` reach the Xen SXPR code. */
export interface TimerDef {
  name: string;
  /** -1 unset, 0 no, 1 yes (libvirt's tri-state). */
  present: number;
}

/** virDomainClockDef (its union flattened: which member counts follows from `offset`). */
export interface ClockDef {
  offset: ClockOffset;
  /** utc/localtime: adjustment='reset' (libvirt's `data.utc_reset`, 0.9.11+). */
  utcReset: boolean;
  /** variable: seconds (`data.variable.adjustment`, a long long read from an XPath number: a double). */
  adjustment: number;
  /** variable: what the adjustment is relative to (`data.variable.basis`, 0.9.11+). */
  basis: "utc" | "localtime";
  /** timezone: the zone name (`data.timezone`). */
  timezone?: string;
  timers: TimerDef[];
}

export type BootDev = "fd" | "hd" | "cdrom" | "network";

/** virDomainOSDef, with the domain's bootloader (`def->os.bootloader`). */
export interface OsDef {
  /** `hvm`, `xen` (the XML parser maps the legacy `linux` to it), or `linux` (the SXPR parser's PV type). */
  type: "hvm" | "xen" | "linux";
  /** undefined: no `<loader>`; "" (4.5.0): a `<loader>` element without a path. */
  loader?: string;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  root?: string;
  bootloader?: string;
  bootloaderArgs?: string;
  bootDevs: BootDev[];
}

/** virDomainDeviceDriveAddress. */
export interface DriveAddress {
  controller: number;
  bus: number;
  target: number;
  unit: number;
}

/** virDomainDiskDef. */
export interface DiskDef {
  /** Storage type; undefined: none set (4.5.0's SXPR parser leaves it unset, and its formatter refuses that). */
  type?: "file" | "block" | "dir" | "network" | "volume";
  device: "disk" | "cdrom" | "floppy" | "lun";
  src?: string;
  dst: string;
  bus: string;
  driverName?: string;
  /** The driver type (before 1.3.1) or storage format (4.5.0: raw, qcow, …). */
  driverType?: string;
  readonly: boolean;
  shared: boolean;
  transient: boolean;
  /** Filled by post-parse (drive addresses). */
  address?: DriveAddress;
}

/** virDomainControllerDef (type and index only). */
export interface ControllerDef {
  type: string;
  index: number;
}

/** virNetDevIPAddr. */
export interface IpDef {
  address: string;
  /** 1.2.12+ (ip-family): the family libvirt found when it parsed the address. */
  family?: "ipv4" | "ipv6";
}

/** virDomainNetDef. */
export interface NetDef {
  type: string;
  mac: number[];
  /** type bridge: `data.bridge.brname`. */
  bridge?: string;
  /** type network: `data.network.name`. */
  network?: string;
  ips: IpDef[];
  script?: string;
  ifname?: string;
  model?: string;
  /** `bandwidth->out->average`, kB/s. */
  outboundAverage?: bigint;
}

/** virDomainChrSourceDef (its union flattened: which members count follows from `type`). */
export interface ChrSourceDef {
  type: string;
  /** pty (tty), dev, file, pipe, unix. */
  path?: string;
  /** tcp. */
  host?: string;
  service?: string;
  /** tcp, unix: bind mode. */
  listen?: boolean;
  protocol?: "raw" | "telnet" | "telnets" | "tls";
  /** udp (and, while the pre-4.5.0 XML parser reads a tcp source, tcp). */
  connectHost?: string;
  connectService?: string;
  bindHost?: string;
  bindService?: string;
}

/** virDomainChrDef. */
export interface ChrDef {
  deviceType: "serial" | "parallel" | "console" | "channel";
  /** console: 'serial' or 'xen' (or 'none'); unset for the others. */
  targetType?: string;
  port: number;
  source: ChrSourceDef;
}

/** virDomainInputDef. */
export interface InputDef {
  type: "mouse" | "tablet" | "keyboard";
  bus: "ps2" | "usb" | "xen";
}

/** virDomainGraphicsListenDef. */
export interface GraphicsListenDef {
  type: "address";
  address?: string;
}

/** virDomainGraphicsDef (its union flattened: which members count follows from `type`). */
export interface GraphicsDef {
  type: "sdl" | "vnc" | "rdp" | "desktop" | "spice";
  /** vnc. */
  port: number;
  autoport: boolean;
  keymap?: string;
  passwd?: string;
  /** sdl. */
  display?: string;
  xauth?: string;
  fullscreen: boolean;
  listens: GraphicsListenDef[];
}

/** virDomainSoundDef. */
export interface SoundDef {
  model: string;
}

/** virDomainVideoDef. */
export interface VideoDef {
  type: string;
  vram: number;
  heads: number;
  primary: boolean;
}

/** virDomainHostdevDef (a PCI subsystem device is the only one the Xen SXPR code handles). */
export interface HostdevDef {
  mode: "subsystem" | "capabilities";
  type: string;
  managed: boolean;
  pci?: { domain: number; bus: number; slot: number; function: number };
  /** 4.5.0: the PCI backend driver set by the libxl post-parse step. */
  backend?: "xen";
}

/** virDomainDef. */
export interface DomainDef {
  /** -1: inactive. */
  id: number;
  virtType: string;
  name: string;
  uuid: Uint8Array;
  description?: string;
  /** KiB (`mem.max_balloon`). */
  maxMemory: bigint;
  /** KiB (`mem.cur_balloon`). */
  curMemory: bigint;
  maxvcpus: number;
  vcpus: number;
  /** Sorted CPU numbers of `<vcpu cpuset>`, when given. */
  cpumask?: number[];
  features: Set<string>;
  onPoweroff: string;
  onReboot: string;
  onCrash: string;
  clock: ClockDef;
  os: OsDef;
  emulator?: string;
  disks: DiskDef[];
  controllers: ControllerDef[];
  nets: NetDef[];
  serials: ChrDef[];
  parallels: ChrDef[];
  consoles: ChrDef[];
  inputs: InputDef[];
  graphics: GraphicsDef[];
  sounds: SoundDef[];
  videos: VideoDef[];
  hostdevs: HostdevDef[];
  memballoon?: string;
}

/** A definition with libvirt's defaults before any parser fills it (virDomainDefNew). */
export function emptyDomain(): DomainDef {
  return {
    id: -1,
    virtType: "xen",
    name: "",
    uuid: new Uint8Array(16),
    maxMemory: 0n,
    curMemory: 0n,
    maxvcpus: 0,
    vcpus: 0,
    features: new Set(),
    onPoweroff: "destroy",
    onReboot: "restart",
    onCrash: "destroy",
    clock: emptyClock(),
    os: { type: "linux", bootDevs: [] },
    disks: [],
    controllers: [],
    nets: [],
    serials: [],
    parallels: [],
    consoles: [],
    inputs: [],
    graphics: [],
    sounds: [],
    videos: [],
    hostdevs: [],
  };
}

export function emptyClock(): ClockDef {
  return { offset: "utc", utcReset: false, adjustment: 0, basis: "utc", timers: [] };
}

/** virUUIDFormat. */
export function formatUuid(u: Uint8Array): string {
  let h = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) h += "-";
    h += HEX_BYTE[u[i]];
  }
  return h;
}
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** The value of a hexadecimal digit's character code, -1 for anything else. */
export function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const DISK_PREFIXES = ["fd", "hd", "vd", "sd", "xvd", "ubd"];

/**
 * virDiskNameToIndex as libvirt has it from 1.2.x (the SXPR direction's post-parse of 1.3.1+ uses it):
 * `hda` → 0, `sdb` → 1, `vdaa` → 26; trailing digits allowed; -1 when not a disk name.
 */
export function diskNameToIndex(name: string): number {
  const prefix = DISK_PREFIXES.find((p) => name.startsWith(p));
  if (prefix === undefined) return -1;
  let i = prefix.length;
  if (!/[a-z]/.test(name[i] ?? "")) return -1;
  let idx = 0;
  let k = 0;
  while (i < name.length && /[a-z]/.test(name[i])) {
    idx = (idx + (k < 1 ? 0 : 1)) * 26 + (name.charCodeAt(i) - 97);
    i++;
    k++;
  }
  if (!/^[0-9]*$/.test(name.slice(i))) return -1;
  return idx;
}

/**
 * virDiskNameToIndex before 1.2.0 (the releases whose domain XML parser sorts or inserts disks by it):
 * the index is multiplied before the letter is checked, so `hda1` gives 26 and a name without letters 0.
 */
export function diskNameToIndexOld(name: string): number {
  const p = DISK_PREFIXES.find((x) => name.startsWith(x));
  if (p === undefined) return -1;
  let s = name.slice(p.length);
  let idx = 0;
  for (let i = 0; s.length > 0; i++) {
    idx = (idx + (i < 1 ? 0 : 1)) * 26;
    if (!/^[a-z]/.test(s)) break;
    idx += s.charCodeAt(0) - 97;
    s = s.slice(1);
  }
  if (!/^[0-9]*$/.test(s)) return -1;
  return idx;
}
