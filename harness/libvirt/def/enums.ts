/**
 * libvirt's enums of the definition at one release (src/conf/domain_conf.c's VIR_ENUM_IMPL lists):
 * the names both parsers accept and the order the formatters write in. One list per enum for both
 * directions, as libvirt has: a name added by a release is a row of ../releases.ts, asked here once.
 * `base` is the era's base model (../releases.ts ERA_PIN); 4.5.0's lists are its own.
 */
import type { BaseRelease, Level } from "../releases.js";
import { diskNameToIndexOld } from "./domain.js";

/** virDomainFeature, in enum order (the domain XML formatter writes features in this order). */
export function domainFeatures(base: BaseRelease, level: Level): readonly string[] {
  if (base === "4.5.0") return FEATURES_450;
  let names = featuresByLevel.get(level.key);
  if (!names) {
    names = ["acpi", "apic", "pae", ...(["hap", "viridian", "privnet"] as const).filter((g) => level.has(g))];
    featuresByLevel.set(level.key, names);
  }
  return names;
}
const featuresByLevel = new Map<string, readonly string[]>();
const FEATURES_450 = ["acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "pvspinlock", "capabilities", "pmu", "vmport", "gic", "smm", "ioapic", "hpt", "vmcoreinfo"];

/** The features an HVM image of xend carries as `(name 1)`, in the order the SXPR code reads them. */
export const XEN_HVM_FEATURES: readonly string[] = ["acpi", "apic", "pae", "hap", "viridian"];

/** virDomainSoundModel. */
export function soundModels(base: BaseRelease, level: Level): readonly string[] {
  if (base === "4.5.0") return SOUND_450;
  return level.has("sound-ich6") ? SOUND_ICH6 : SOUND_FIRST;
}
const SOUND_FIRST = ["sb16", "es1370", "pcspk", "ac97"];
const SOUND_ICH6 = [...SOUND_FIRST, "ich6"];
const SOUND_450 = [...SOUND_ICH6, "ich9", "usb"];

/** virDomainChr (the character device source types). */
export function chrTypes(base: BaseRelease, level: Level): readonly string[] {
  if (base === "4.5.0") return CHR_450;
  return level.has("spicevmc") ? CHR_SPICEVMC : CHR_FIRST;
}
const CHR_FIRST = ["null", "vc", "pty", "dev", "file", "pipe", "stdio", "udp", "tcp", "unix"];
const CHR_SPICEVMC = [...CHR_FIRST, "spicevmc"];
const CHR_450 = [...CHR_SPICEVMC, "spiceport", "nmdm"];

/** virDomainInputType (0.9.x knows mouse and tablet; 4.5.0's list is its own). */
export function inputTypes(base: BaseRelease): readonly string[] {
  return base === "4.5.0" ? INPUT_450 : INPUT_FIRST;
}
const INPUT_FIRST = ["mouse", "tablet"];
const INPUT_450 = ["mouse", "tablet", "keyboard", "passthrough"];

/** virDomainNetType in enum order (the SXPR formatter's error text prints an unsupported one by its number). */
export function netTypes(base: BaseRelease): readonly string[] {
  return base === "4.5.0" ? NET_450 : base === "0.9.11" ? NET_HOSTDEV : NET_FIRST;
}
const NET_FIRST = ["user", "ethernet", "server", "client", "mcast", "network", "bridge", "internal", "direct"];
const NET_HOSTDEV = [...NET_FIRST, "hostdev"];
const NET_450 = ["user", "ethernet", "vhostuser", "server", "client", "mcast", "network", "bridge", "internal", "direct", "hostdev", "udp"];

/** virDomainLifecycleAction (on_poweroff, on_reboot; and on_crash before the coredump actions). */
export const LIFECYCLE_ACTIONS: readonly string[] = ["destroy", "restart", "rename-restart", "preserve"];
/** virDomainLifecycleCrashAction. */
export const LIFECYCLE_CRASH_ACTIONS: readonly string[] = [...LIFECYCLE_ACTIONS, "coredump-destroy", "coredump-restart"];

/** virDomainGraphicsType (the error texts print an unexpected one by its number). */
export const GRAPHICS_TYPES: readonly string[] = ["sdl", "vnc", "rdp", "desktop", "spice"];

/** virStorageFileFormat names that count as a format (4.5.0; "none" is 0 and refused). */
export const STORAGE_FORMATS: readonly string[] = ["raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop", "cow", "qcow", "qcow2", "qed", "vmdk"];

/** virDomainDiskBus before 0.7.1, the order disks were sorted by (see the `disk-insert` row). */
const OLD_BUS_ORDER = ["ide", "fdc", "scsi", "virtio", "xen", "usb", "uml"];

/**
 * Before 0.7.1 (2d6adabd5) both parsers sorted the disks by bus, then by target index (with that
 * release's virDiskNameToIndex). Stable, in place.
 */
export function sortDisksOld<T extends { bus: string; dst: string }>(disks: T[]): T[] {
  return disks.sort((a, b) =>
    a.bus === b.bus ? diskNameToIndexOld(a.dst) - diskNameToIndexOld(b.dst) : OLD_BUS_ORDER.indexOf(a.bus) - OLD_BUS_ORDER.indexOf(b.bus),
  );
}
