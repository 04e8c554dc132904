/**
 * The XML → SXPR direction beyond the clock: how each release's domain XML parser fills the model
 * (defaults, fix-ups, per-release differences) and what the formatter then writes or refuses.
 */
import { describe, expect, it } from "vitest";
import { diskNameToIndexOld as diskNameToIndex } from "../harness/libvirt/def/index.js";
import { parseDomainXml } from "../harness/libvirt/domxml/index.js";
import { formatDomain } from "../harness/libvirt/convert.js";
import type { Behaviour } from "../harness/libvirt/types.js";
import { refusal } from "./support/refusal.js";

function pv(extra: { devices?: string; top?: string; memory?: string; vcpu?: string } = {}): string {
  return `<domain type='xen'>
  <name>t</name>
  <uuid>596a5d21-71f4-8fb2-e068-e2386a5c413e</uuid>
  <os><type>linux</type><kernel>/boot/vmlinuz</kernel></os>
  ${extra.memory ?? "<memory>262144</memory>"}
  ${extra.vcpu ?? "<vcpu>1</vcpu>"}
  ${extra.top ?? ""}
  <devices>${extra.devices ?? ""}</devices>
</domain>`;
}

function hvm(extra: { devices?: string; features?: string } = {}): string {
  return `<domain type='xen'>
  <name>h</name>
  <uuid>596a5d21-71f4-8fb2-e068-e2386a5c413e</uuid>
  <os><type>hvm</type><loader>/usr/lib/xen/boot/hvmloader</loader></os>
  <memory>262144</memory>
  ${extra.features ?? ""}
  <devices>${extra.devices ?? ""}</devices>
</domain>`;
}

function fmt(xml: string, b: Behaviour, v = 4): string {
  return formatDomain(xml, b, { xendConfigVersion: v }).sxpr;
}

describe("domain XML reading", () => {
  it("malformed XML is an input error naming file, line and column", () => {
    const e = refusal(() => formatDomain("<domain type='xen'>\n  <name>x</nam>\n</domain>", "0.9.5", { xendConfigVersion: 4, file: "d.xml" }));
    expect(e.code).toBe("input.xml");
    expect(e.pos?.file).toBe("d.xml");
    expect(e.pos?.line).toBe(2);
    expect(e.pos?.column).toBeGreaterThan(0);
    expect(e.oneLine()).toMatch(/^d\.xml:2:\d+: /);
  });

  it("a domain of another hypervisor type is refused as libvirt's Xen driver does", () => {
    const e = refusal(() => fmt(pv().replace("type='xen'", "type='kvm'"), "0.9.5"));
    expect(e.code).toBe("libvirt.internal");
    expect(e.message).toBe("unexpected domain type kvm, expecting xen");
  });

  it("disks are kept sorted per bus by target index, as virDomainDiskInsertPreAlloced does", () => {
    const disk = (dev: string, f: string): string => `<disk type='file'><source file='${f}'/><target dev='${dev}'/></disk>`;
    const def = parseDomainXml(pv({ devices: disk("xvdc", "/c") + disk("hda", "/a") + disk("xvdb", "/b") + disk("xvdaa", "/aa") }), { release: "0.9.10" });
    expect(def.disks.map((d) => d.dst)).toEqual(["xvdb", "xvdc", "xvdaa", "hda"]);
    expect(diskNameToIndex("xvdaa")).toBe(26);
    expect(diskNameToIndex("sdb")).toBe(1);
    expect(diskNameToIndex("foo")).toBe(-1);
  });

  it("an HVM <console> with no serial becomes the first serial port", () => {
    expect(fmt(hvm({ devices: "<console type='pty'/>" }), "0.9.5")).toContain("(serial pty)");
    expect(fmt(hvm({ devices: "<serial type='file'><source path='/tmp/s'/></serial><console type='pty'/>" }), "0.9.5")).toContain("(serial file:/tmp/s)");
  });

  it("memory: 0.8.7 truncates to MiB, later releases round up; 0.9.11 reads units", () => {
    expect(fmt(pv({ memory: "<memory>263000</memory>" }), "0.6.2")).toContain("(memory 256)(maxmem 256)");
    expect(fmt(pv({ memory: "<memory>263000</memory>" }), "0.9.5")).toContain("(memory 257)(maxmem 257)");
    expect(fmt(pv({ memory: "<memory unit='MiB'>512</memory>" }), "0.9.11")).toContain("(memory 512)(maxmem 512)");
    expect(fmt(pv({ memory: "<memory unit='GB'>1</memory>" }), "1.3.1")).toContain("(memory 954)(maxmem 954)");
  });

  it("current vcpus below the maximum give a vcpu_avail bitmask", () => {
    expect(fmt(pv({ vcpu: "<vcpu current='3'>8</vcpu>" }), "0.9.5")).toContain("(vcpus 8)(vcpu_avail 7)");
    expect(fmt(pv({ vcpu: "<vcpu cpuset='0-2,^1,4,5'>2</vcpu>" }), "0.9.5")).toContain("(vcpus 2)(cpus '0,2,4-5')");
  });

  it("features: 0.8.7 knows only acpi/apic/pae, 0.9.10 writes hap and viridian, 4.5.0 always sets pae for HVM", () => {
    const e = refusal(() => fmt(hvm({ features: "<features><hap/></features>" }), "0.6.2"));
    expect(e.message).toBe("unexpected feature hap");
    expect(fmt(hvm({ features: "<features><acpi/><hap/><viridian/></features>" }), "0.9.5")).toContain("(acpi 1)(hap 1)(viridian 1)(usb 1)");
    expect(fmt(hvm(), "1.3.1")).toContain("(boot c)(pae 1)(usb 1)");
    expect(fmt(hvm({ features: "<features><hap state='off'/></features>" }), "1.3.1")).not.toContain("(hap 1)");
  });

  it("quotes and backslashes in names and paths are escaped the SXPR way", () => {
    expect(fmt(pv({ devices: "<disk type='file'><source file=\"/x/it's\\a\"/><target dev='xvda'/></disk>" }), "0.9.5")).toContain("(uname 'file:/x/it\\'s\\\\a')");
  });

  it("interfaces: default vif script, 4.5.0 rate, network type needs a network driver", () => {
    const bridge = "<interface type='bridge'><source bridge='br0'/><mac address='00:16:3e:00:00:01'/></interface>";
    expect(fmt(pv({ devices: bridge }), "0.9.5")).toContain("(device (vif (mac '00:16:3e:00:00:01')(bridge 'br0')(script 'vif-bridge')))");
    const rate = bridge.replace("</interface>", "<bandwidth><outbound average='100'/></bandwidth></interface>");
    expect(fmt(pv({ devices: rate }), "1.3.1")).toContain("(mac '00:16:3e:00:00:01')(rate '100KB/s')(bridge 'br0')");
    const net = "<interface type='network'><source network='default'/><mac address='00:16:3e:00:00:01'/></interface>";
    expect(refusal(() => fmt(pv({ devices: net }), "0.9.5")).code).toBe("libvirt.internal");
  });

  it("HVM NICs without a model get (type ioemu) up to config version 3 (not in 4.5.0)", () => {
    const nic = "<interface type='bridge'><source bridge='br0'/><mac address='00:16:3e:00:00:01'/></interface>";
    expect(fmt(hvm({ devices: nic }), "0.9.5", 3)).toContain("(script 'vif-bridge')(type ioemu)))");
    expect(fmt(hvm({ devices: nic }), "0.9.5", 4)).toContain("(script 'vif-bridge')))");
    expect(fmt(hvm({ devices: nic }), "1.3.1", 1)).toContain("(script 'vif-bridge')))");
  });

  it("managed PCI devices are refused", () => {
    const dev = "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x1f' function='0x2'/></source></hostdev>";
    const e = refusal(() => fmt(pv({ devices: dev }), "0.9.11"));
    expect(e.code).toBe("libvirt.unsupported");
    expect(e.message).toBe("managed PCI devices not supported with XenD");
    expect(fmt(pv({ devices: dev.replace("yes", "no") }), "0.9.11")).toContain("(device (pci (dev (domain 0x0000)(bus 0x01)(slot 0x1f)(func 0x2))))");
  });

  it("HVM floppies go into the image before 4.5.0 and nowhere in 4.5.0", () => {
    const fd = "<disk type='file' device='floppy'><source file='/f.img'/><target dev='fda'/></disk>";
    expect(fmt(hvm({ devices: fd }), "0.9.5")).toContain("(boot c)(fda '/f.img')(usb 1)");
    expect(fmt(hvm({ devices: fd }), "1.3.1")).not.toContain("fda");
  });

  it("an HVM guest without a loader is refused", () => {
    const e = refusal(() => fmt(hvm().replace("<loader>/usr/lib/xen/boot/hvmloader</loader>", ""), "0.9.11"));
    expect(e.message).toBe("no HVM domain loader");
  });
});
