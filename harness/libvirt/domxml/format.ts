/**
 * virDomainDefFormat(def, 0) for the releases this direction reproduces, written from the formatter
 * of src/conf/domain_conf.c at each tag (only the parts a Xen SXPR can fill in).
 *
 * Flavours: `0.8.7` (v0.6.2–v0.9.4 output), `0.9.10` (v0.9.5–v0.9.10), `0.9.11` (v0.9.11–v1.3.0),
 * `4.5.0` (v1.3.1–v5.5.0; the libxl-era formatter with its post-parse defaults already applied).
 */
import { domainFeatures, formatUuid, type ChrDef, type DiskDef, type DomainDef, type GraphicsDef, type HostdevDef, type InputDef, type NetDef } from "../def/index.js";
import { cStr, xmlEscape } from "./escape.js";
import { HarnessError } from "../../errors.js";
import { levelAt, type BaseRelease, type Gate, type Level } from "../releases.js";

/** The formatter of an era's base model (1.3.1–4.2.0 use 0.9.11's, see ../DECISIONS.md). */
export type XmlFlavour = BaseRelease;

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, "0");
}

class Buf {
  s = "";
  add(t: string): void {
    this.s += t;
  }
  /** virBufferEscapeString: nothing at all when the value is absent. */
  esc(before: string, v: string | undefined, after: string): void {
    if (v === undefined) return;
    this.s += before + xmlEscape(v) + after;
  }
}

export function formatDomainXml(def: DomainDef, fl: XmlFlavour, level: Level = levelAt(fl)): string {
  const has = (g: Gate) => level.has(g);
  const b = new Buf();
  const inactive = def.id === -1;
  const v0911 = fl === "0.9.11" || fl === "4.5.0";
  const v45 = fl === "4.5.0";
  b.add(`<domain type='${def.virtType}'`);
  if (!inactive) b.add(` id='${def.id}'`);
  b.add(">\n");
  b.esc("  <name>", def.name, "</name>\n");
  b.add(`  <uuid>${formatUuid(def.uuid)}</uuid>\n`);
  b.esc("  <description>", def.description, "</description>\n");
  const unit = v0911 ? " unit='KiB'" : "";
  b.add(`  <memory${unit}>${def.maxMemory}</memory>\n`);
  b.add(`  <currentMemory${unit}>${def.curMemory}</currentMemory>\n`);
  b.add("  <vcpu");
  if (has("vcpu-placement")) b.add(" placement='static'");
  if (def.vcpus !== def.maxvcpus) b.add(` current='${def.vcpus >>> 0}'`);
  b.add(`>${def.maxvcpus >>> 0}</vcpu>\n`);

  if (def.os.bootloader !== undefined) {
    b.esc("  <bootloader>", def.os.bootloader, "</bootloader>\n");
    b.esc("  <bootloader_args>", def.os.bootloaderArgs, "</bootloader_args>\n");
  }
  b.add("  <os>\n");
  const osType = def.os.type === "xen" ? "linux" : def.os.type;
  b.add(`    <type>${osType}</type>\n`);
  if (def.os.loader !== undefined) {
    if (has("loader-rom")) b.esc("    <loader type='rom'>", def.os.loader, "</loader>\n");
    else b.esc("    <loader>", def.os.loader, "</loader>\n");
  }
  b.esc("    <kernel>", def.os.kernel, "</kernel>\n");
  b.esc("    <initrd>", def.os.initrd, "</initrd>\n");
  b.esc("    <cmdline>", def.os.cmdline, "</cmdline>\n");
  b.esc("    <root>", def.os.root, "</root>\n");
  if (def.os.bootloader === undefined) {
    for (const d of def.os.bootDevs) b.add(`    <boot dev='${d}'/>\n`);
  }
  b.add("  </os>\n");

  if (def.features.size > 0) {
    b.add("  <features>\n");
    for (const f of domainFeatures(fl, level)) {
      if (!def.features.has(f)) continue;
      // v4.5.0 writes the newer tri-state features with a state attribute.
      if (v45 && f === "hap") b.add(`    <${f} state='on'/>\n`);
      else b.add(`    <${f}/>\n`);
    }
    b.add("  </features>\n");
  }

  const c = def.clock;
  b.add(`  <clock offset='${c.offset}'`);
  if (c.offset === "variable") {
    if (v0911) b.add(` adjustment='${c.adjustment}' basis='${c.basis}'`);
    else b.add(` adjustment='${c.adjustment}'`);
  } else if (v0911 && c.utcReset) {
    b.add(" adjustment='reset'");
  }
  if (c.timers.length === 0) b.add("/>\n");
  else {
    b.add(">\n");
    for (const t of c.timers) {
      b.add(`    <timer name='${t.name}'`);
      if (t.present === 0) b.add(" present='no'");
      else if (t.present === 1) b.add(" present='yes'");
      b.add("/>\n");
    }
    b.add("  </clock>\n");
  }
  b.add(`  <on_poweroff>${def.onPoweroff}</on_poweroff>\n`);
  b.add(`  <on_reboot>${def.onReboot}</on_reboot>\n`);
  b.add(`  <on_crash>${def.onCrash}</on_crash>\n`);

  b.add("  <devices>\n");
  b.esc("    <emulator>", def.emulator, "</emulator>\n");
  for (const d of def.disks) formatDisk(b, d, fl, has("backing-store") && !inactive);
  for (const ctl of def.controllers) b.add(`    <controller type='${ctl.type}' index='${ctl.index}'/>\n`);
  for (const n of def.nets) formatNet(b, n, fl, inactive);
  for (const s of def.serials) formatChr(b, s, inactive, fl, level);
  for (const p of def.parallels) formatChr(b, p, inactive, fl, level);

  if (!has("multiple-consoles")) {
    if (def.consoles.length > 0) formatChr(b, def.consoles[0], inactive, fl, level);
    else if (def.serials.length > 0) formatChr(b, { ...def.serials[0], deviceType: "console", targetType: "serial" }, inactive, fl, level);
  } else {
    def.consoles.forEach((con, n) => {
      if (def.os.type === "hvm" && con.targetType === "serial" && n < def.serials.length) {
        formatChr(b, { ...def.serials[n], deviceType: "console", targetType: "serial" }, inactive, fl, level);
      } else formatChr(b, con, inactive, fl, level);
    });
    if (def.os.type === "hvm" && def.consoles.length === 0 && def.serials.length > 0) {
      formatChr(b, { ...def.serials[0], deviceType: "console", targetType: "serial" }, inactive, fl, level);
    }
  }

  if (v45 || has("implicit-input")) {
    for (const i of def.inputs) formatInput(b, i);
    for (const g of def.graphics) formatGraphics(b, g, fl, inactive, level);
  } else {
    for (const i of def.inputs) if (i.bus === "usb") formatInput(b, i);
    if (def.graphics.length > 0) {
      formatInput(b, { type: "mouse", bus: def.os.type === "hvm" ? "ps2" : "xen" });
      if (has("keyboard-input")) formatInput(b, { type: "keyboard", bus: def.os.type === "hvm" ? "ps2" : "xen" });
      for (const g of def.graphics) formatGraphics(b, g, fl, inactive, level);
    }
  }
  for (const s of def.sounds) b.add(`    <sound model='${s.model}'/>\n`);
  for (const v of def.videos) {
    b.add("    <video>\n");
    b.add(`      <model type='${v.type}'`);
    if (v.vram) b.add(` vram='${v.vram}'`);
    if (v.heads) b.add(` heads='${v.heads}'`);
    if (v.primary) b.add(" primary='yes'");
    b.add("/>\n");
    b.add("    </video>\n");
  }
  for (const h of def.hostdevs) formatHostdev(b, h, fl);
  if (def.memballoon !== undefined) b.add(`    <memballoon model='${def.memballoon}'/>\n`);
  b.add("  </devices>\n");
  b.add("</domain>\n");
  return b.s;
}

function formatDisk(b: Buf, d: DiskDef, _fl: XmlFlavour, backingStore: boolean): void {
  if (d.type === undefined) throw new HarnessError("libvirt.internal", "unexpected disk type 0");
  b.add(`    <disk type='${d.type}' device='${d.device}'>\n`);
  if (d.driverName !== undefined || d.driverType !== undefined) {
    b.add("      <driver");
    if (d.driverName !== undefined) b.add(` name='${d.driverName}'`);
    if (d.driverType !== undefined) b.add(` type='${d.driverType}'`);
    b.add("/>\n");
  }
  if (d.src !== undefined) {
    if (d.type === "file") b.esc("      <source file='", d.src, "'/>\n");
    else b.esc("      <source dev='", d.src, "'/>\n");
  }
  if (backingStore) b.add("      <backingStore/>\n");
  b.add(`      <target dev='${d.dst}' bus='${d.bus}'/>\n`);
  if (d.readonly) b.add("      <readonly/>\n");
  if (d.shared) b.add("      <shareable/>\n");
  if (d.address) {
    const a = d.address;
    b.add(`      <address type='drive' controller='${a.controller}' bus='${a.bus}' target='${a.target}' unit='${a.unit}'/>\n`);
  }
  b.add("    </disk>\n");
}

function formatNet(b: Buf, n: NetDef, fl: XmlFlavour, inactive: boolean): void {
  b.add(`    <interface type='${n.type}'>\n`);
  b.add(`      <mac address='${n.mac.map((x) => hex(x, 2)).join(":")}'/>\n`);
  const scriptAfterSource = fl !== "0.8.7";
  // The SXPR parser fills at most one address.
  const ip = n.ips.length > 0 ? n.ips[0] : undefined;
  const ipTag = (): string => `      <ip address='${ip!.address}'${ip!.family ? ` family='${ip!.family}'` : ""}/>\n`;
  if (fl === "4.5.0") {
    if (n.type === "bridge") b.esc("      <source bridge='", n.bridge, "'/>\n");
    if (n.outboundAverage !== undefined) {
      b.add("      <bandwidth>\n");
      b.add(`        <outbound average='${n.outboundAverage}'/>\n`);
      b.add("      </bandwidth>\n");
    }
    if (ip !== undefined) {
      b.add(`      <ip address='${ip.address}'`);
      if (ip.family) b.add(` family='${ip.family}'`);
      b.add("/>\n");
    }
  } else if (n.type === "bridge") {
    b.esc("      <source bridge='", n.bridge, "'/>\n");
    if (n.outboundAverage !== undefined) {
      b.add("      <bandwidth>\n");
      b.add(`        <outbound average='${n.outboundAverage}'/>\n`);
      b.add("      </bandwidth>\n");
    }
    if (ip !== undefined) b.add(ipTag());
    if (!scriptAfterSource) b.esc("      <script path='", n.script, "'/>\n");
  } else {
    if (ip !== undefined) b.add(ipTag());
    if (!scriptAfterSource) b.esc("      <script path='", n.script, "'/>\n");
  }
  if (scriptAfterSource) b.esc("      <script path='", n.script, "'/>\n");
  if (n.ifname !== undefined && !(fl !== "0.8.7" && inactive && n.ifname.startsWith("vnet"))) {
    b.esc("      <target dev='", n.ifname, "'/>\n");
  }
  b.esc("      <model type='", n.model, "'/>\n");
  b.add("    </interface>\n");
}

function formatChr(b: Buf, c: ChrDef, inactive: boolean, fl: XmlFlavour, level: Level): void {
  const s = c.source;
  b.add(`    <${c.deviceType} type='${s.type}'`);
  if (c.deviceType === "console" && c.port === 0 && s.type === "pty" && !inactive && s.path !== undefined) {
    b.esc(" tty='", s.path, "'");
  }
  b.add(">\n");
  switch (s.type) {
    case "pty":
    case "dev":
    case "file":
    case "pipe":
      if (s.type !== "pty" || (s.path !== undefined && !inactive)) b.esc("      <source path='", s.path, "'/>\n");
      break;
    case "udp":
      if (fl === "4.5.0") {
        // 4.5.0 escapes the values; the output is otherwise the same as before.
        for (const [mode, host, service] of [
          ["bind", s.bindHost, s.bindService],
          ["connect", s.connectHost, s.connectService],
        ] as const) {
          if (host === undefined && service === undefined) continue;
          b.add(`      <source mode='${mode}'`);
          b.esc(" host='", host, "'");
          b.esc(" service='", service, "'");
          b.add("/>\n");
        }
        break;
      }
      if (s.bindService !== undefined && s.bindHost !== undefined) {
        b.add(`      <source mode='bind' host='${s.bindHost}' service='${s.bindService}'/>\n`);
      } else if (s.bindHost !== undefined) b.add(`      <source mode='bind' host='${s.bindHost}'/>\n`);
      else if (s.bindService !== undefined) b.add(`      <source mode='bind' service='${s.bindService}'/>\n`);
      if (s.connectService !== undefined && s.connectHost !== undefined) {
        b.add(`      <source mode='connect' host='${s.connectHost}' service='${s.connectService}'/>\n`);
      } else if (s.connectHost !== undefined) b.add(`      <source mode='connect' host='${s.connectHost}'/>\n`);
      else if (s.connectService !== undefined) b.add(`      <source mode='connect' service='${s.connectService}'/>\n`);
      break;
    case "tcp":
      if (fl === "4.5.0") {
        b.add(`      <source mode='${s.listen ? "bind" : "connect"}' `);
        b.esc("host='", s.host, "' ");
        b.esc("service='", s.service, "'");
        b.add("/>\n");
      } else {
        b.add(`      <source mode='${s.listen ? "bind" : "connect"}' host='${cStr(s.host)}' service='${cStr(s.service)}'/>\n`);
      }
      b.add(`      <protocol type='${s.protocol}'/>\n`);
      break;
    case "unix":
      b.add(`      <source mode='${s.listen ? "bind" : "connect"}'`);
      b.esc(" path='", s.path, "'/>\n");
      break;
    default:
      break;
  }
  if (c.deviceType === "console" && level.has("console-target-type")) b.add(`      <target type='${c.targetType}' port='${c.port}'/>\n`);
  else b.add(`      <target port='${c.port}'/>\n`);
  b.add(`    </${c.deviceType}>\n`);
}

function formatInput(b: Buf, i: InputDef): void {
  b.add(`    <input type='${i.type}' bus='${i.bus}'/>\n`);
}

function formatGraphics(b: Buf, g: GraphicsDef, _fl: XmlFlavour, inactive: boolean, level: Level): void {
  b.add(`    <graphics type='${g.type}'`);
  let children = false;
  if (g.type === "vnc") {
    const listenAddr = g.listens.find((l) => l.type === "address")?.address;
    if (g.port && (!g.autoport || !inactive)) b.add(` port='${g.port}'`);
    else if (g.autoport) b.add(" port='-1'");
    b.add(` autoport='${g.autoport ? "yes" : "no"}'`);
    if (listenAddr !== undefined) b.add(` listen='${listenAddr}'`);
    b.esc(" keymap='", g.keymap, "'");
    if (level.has("graphics-listen")) {
      for (const l of g.listens) {
        if (!children) {
          b.add(">\n");
          children = true;
        }
        b.add(`      <listen type='${l.type}'`);
        if (l.address !== undefined) b.add(` address='${l.address}'`);
        b.add("/>\n");
      }
    }
  } else {
    b.esc(" display='", g.display, "'");
    b.esc(" xauth='", g.xauth, "'");
    if (g.fullscreen) b.add(" fullscreen='yes'");
  }
  b.add(children ? "    </graphics>\n" : "/>\n");
}

function formatHostdev(b: Buf, h: HostdevDef, fl: XmlFlavour): void {
  // The SXPR parser fills PCI subsystem devices only.
  const p = h.pci!;
  b.add(`    <hostdev mode='subsystem' type='pci' managed='${h.managed ? "yes" : "no"}'>\n`);
  if (fl === "4.5.0" && h.backend) b.add(`      <driver name='${h.backend}'/>\n`);
  b.add("      <source>\n");
  b.add(
    `        <address domain='0x${hex(p.domain, 4)}' bus='0x${hex(p.bus, 2)}' slot='0x${hex(p.slot, 2)}' function='0x${hex(p.function, 1)}'/>\n`,
  );
  b.add("      </source>\n");
  b.add("    </hostdev>\n");
}
