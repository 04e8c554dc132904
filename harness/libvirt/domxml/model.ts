/**
 * The in-memory domain definition the XML → SXPR direction works on: only what libvirt's Xen SXPR
 * formatter reads, with the values libvirt's domain XML parser would have put there at a given release.
 * (The SXPR → XML direction keeps its own model; the two meet only through text.)
 */

/** The libvirt source release whose domain XML parser (and SXPR formatter) is reproduced. */
export type Release = "0.8.7" | "0.9.10" | "0.9.11" | "4.5.0";

export type ClockOffset = "utc" | "localtime" | "variable" | "timezone";

export interface ClockDef {
  offset: ClockOffset;
  /** offset='variable': seconds (libvirt keeps a long long). */
  adjustment: number;
  /** offset='variable' (0.9.11+): what the adjustment is relative to. */
  basis: "utc" | "localtime";
  /** offset utc/localtime with adjustment='reset' (0.9.11+). */
  utcReset: boolean;
  timezone?: string;
  timers: TimerDef[];
}

export interface TimerDef {
  name: string;
  /** -1 when the attribute is absent. */
  present: -1 | 0 | 1;
}

export type BootDev = "fd" | "hd" | "cdrom" | "network";

export interface OsDef {
  /** `hvm`, `xen` (PV; the legacy `linux` is mapped to `xen`), … */
  type: string;
  bootloader?: string;
  bootloaderArgs?: string;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  root?: string;
  loader?: string;
  bootDevs: BootDev[];
}

export interface DiskDef {
  type: "file" | "block" | "dir" | "network" | "volume";
  device: "disk" | "cdrom" | "floppy" | "lun";
  src?: string;
  dst: string;
  bus: string;
  driverName?: string;
  /** The driver type / image format as the formatter of the release sees it. */
  driverType?: string;
  readonly: boolean;
  shared: boolean;
  transient: boolean;
}

export interface NetDef {
  type: string;
  mac: number[];
  bridge?: string;
  network?: string;
  /** Guest IP addresses (`<ip address>`). */
  ips: string[];
  script?: string;
  ifname?: string;
  model?: string;
  /** `<bandwidth><outbound average>` in kB/s (4.5.0 formats it). */
  outboundAverage?: number;
}

export interface ChrSourceDef {
  type: string;
  path?: string;
  host?: string;
  service?: string;
  listen?: boolean;
  protocol?: "raw" | "telnet" | "telnets" | "tls";
  connectHost?: string;
  connectService?: string;
  bindHost?: string;
  bindService?: string;
}

export interface ChrDef {
  deviceType: "serial" | "parallel" | "console" | "channel";
  targetType?: string;
  port: number;
  source: ChrSourceDef;
}

export interface InputDef {
  type: "mouse" | "tablet" | "keyboard";
  bus: "ps2" | "usb" | "xen";
}

export interface GraphicsDef {
  type: "sdl" | "vnc" | "rdp" | "desktop" | "spice";
  port: number;
  autoport: boolean;
  listen?: string;
  passwd?: string;
  keymap?: string;
  display?: string;
  xauth?: string;
}

export interface HostdevDef {
  mode: "subsystem" | "capabilities";
  type: string;
  managed: boolean;
  pci?: { domain: number; bus: number; slot: number; func: number };
}

export interface DomainDef {
  virtType: string;
  name: string;
  uuid: string;
  description?: string;
  /** KiB */
  maxMemory: number;
  /** KiB */
  curMemory: number;
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
  nets: NetDef[];
  serials: ChrDef[];
  parallels: ChrDef[];
  consoles: ChrDef[];
  inputs: InputDef[];
  graphics: GraphicsDef[];
  sounds: string[];
  hostdevs: HostdevDef[];
}
