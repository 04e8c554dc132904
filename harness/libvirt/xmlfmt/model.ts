/**
 * The domain definition as the SXPR → XML direction builds it: a small subset of libvirt's
 * virDomainDef, holding only what xenParseSxpr can fill in. Enum values are kept as libvirt's XML
 * strings. This model is private to the parse direction (the format direction has its own).
 */

export type ClockOffset = "utc" | "localtime" | "variable";

export interface TimerDef {
  name: "hpet";
  /** -1 unset, 0 no, 1 yes (libvirt's tri-state). */
  present: number;
}

export interface ClockDef {
  offset: ClockOffset;
  /** utc/localtime: adjustment='reset' (v0.9.11+). */
  reset?: boolean;
  /** variable: seconds. */
  adjustment?: bigint;
  /** variable: basis (printed from v0.9.11 on). */
  basis?: "utc" | "localtime";
  timers: TimerDef[];
}

export interface DriveAddress {
  controller: number;
  bus: number;
  target: number;
  unit: number;
}

export interface DiskDef {
  /** Undefined: no storage type was set (v4.5.0 refuses to format that). */
  type?: "file" | "block";
  device: "disk" | "cdrom" | "floppy";
  driverName?: string;
  /** The driver type (before v1.3.1) or storage format (v4.5.0: raw, qcow, …). */
  driverType?: string;
  src?: string;
  dst: string;
  bus: "ide" | "fdc" | "scsi" | "xen";
  readonly: boolean;
  shared: boolean;
  /** Filled by the v4.5.0 post-parse step (drive addresses). */
  address?: DriveAddress;
}

export interface ControllerDef {
  type: string;
  index: number;
}

export interface NetDef {
  type: "bridge" | "ethernet";
  mac: number[];
  brname?: string;
  ipaddr?: string;
  /** v4.5.0: the address family libvirt detected when it parsed `ipaddr`. */
  ipFamily?: "ipv4" | "ipv6";
  script?: string;
  ifname?: string;
  model?: string;
  /** v4.5.0: bandwidth from the vif rate. */
  bandwidthOut?: { average: bigint };
}

export type ChrSource =
  | { type: "null" | "vc" | "stdio" | "spicevmc" | "spiceport" | "nmdm" }
  | { type: "pty" | "dev" | "file" | "pipe"; path?: string }
  | { type: "tcp"; host?: string; service?: string; listen: boolean; protocol: "raw" | "telnet" }
  | { type: "udp"; connectHost?: string; connectService?: string; bindHost?: string; bindService?: string }
  | { type: "unix"; path?: string; listen: boolean };

export interface ChrDef {
  deviceType: "serial" | "parallel" | "console";
  /** console target type: 'serial' (0) or 'xen'. */
  targetType: "serial" | "xen" | "none";
  port: number;
  source: ChrSource;
}

export interface InputDef {
  type: "mouse" | "tablet" | "keyboard";
  bus: "ps2" | "usb" | "xen";
}

export interface GraphicsListen {
  type: "address";
  address?: string;
}

export type GraphicsDef =
  | {
      type: "vnc";
      port: number;
      autoport: boolean;
      keymap?: string;
      passwd?: string;
      listens: GraphicsListen[];
    }
  | { type: "sdl"; display?: string; xauth?: string; fullscreen: boolean };

export interface SoundDef {
  model: string;
}

export interface HostdevDef {
  /** v4.5.0: PCI backend driver set by the libxl post-parse step. */
  backend?: "xen";
  domain: number;
  bus: number;
  slot: number;
  function: number;
  managed: boolean;
}

export interface VideoDef {
  type: string;
  vram: number;
  heads: number;
  primary: boolean;
}

export interface DomainDef {
  id: number;
  name: string;
  uuid: Uint8Array;
  description?: string;
  maxMemory: bigint;
  curMemory: bigint;
  maxvcpus: number;
  vcpus: number;
  os: {
    type: "hvm" | "linux" | "xen";
    loader?: string;
    kernel?: string;
    initrd?: string;
    cmdline?: string;
    root?: string;
    bootloader?: string;
    bootloaderArgs?: string;
    bootDevs: ("fd" | "hd" | "cdrom" | "network")[];
  };
  features: Set<string>;
  clock: ClockDef;
  onPoweroff: string;
  onReboot: string;
  onCrash: string;
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

export function emptyDomain(): DomainDef {
  return {
    id: -1,
    name: "",
    uuid: new Uint8Array(16),
    maxMemory: 0n,
    curMemory: 0n,
    maxvcpus: 0,
    vcpus: 0,
    os: { type: "linux", bootDevs: [] },
    features: new Set(),
    clock: { offset: "utc", timers: [] },
    onPoweroff: "destroy",
    onReboot: "restart",
    onCrash: "destroy",
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
