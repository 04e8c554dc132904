/**
 * SXPR → XML beyond libvirt's own suites: the reader's leniency, the errors libvirt reports, and
 * release differences the suites do not pin.
 */
import { describe, expect, it } from "vitest";
import { HarnessError } from "../harness/errors.js";
import { parseDomain } from "../harness/libvirt/convert.js";
import { diskNameToIndex } from "../harness/libvirt/def/index.js";
import { parseVifRate } from "../harness/libvirt/sxpr/index.js";
import type { Behaviour } from "../harness/libvirt/types.js";

const UUID = "(uuid '596a5d2171f48fb2e068e2386a5c413e')";
const PV = (extra = "", domid = "(domid 6)") =>
  `(domain ${domid}(name 'pv')${UUID}(memory 256)(maxmem 256)(vcpus 2)(image (linux (kernel '/k')))${extra})`;
const HVM = (img = "", extra = "") =>
  `(domain (domid 3)(name 'fv')${UUID}(memory 256)(maxmem 256)(vcpus 1)(image (hvm (kernel '/usr/lib/xen/boot/hvmloader')${img}))${extra})`;

function xml(sx: string, b: Behaviour, v = 4): string {
  return parseDomain(sx, b, { xendConfigVersion: v }).xml;
}

function error(sx: string, b: Behaviour, v = 4): HarnessError {
  try {
    parseDomain(sx, b, { xendConfigVersion: v, file: "dom.sxpr" });
  } catch (e) {
    if (e instanceof HarnessError) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("reading the text", () => {
  it("accepts an unclosed list as libvirt's reader does, with a positioned warning", () => {
    const text = PV().slice(0, -1);
    const out = parseDomain(text, "0.9.11", { xendConfigVersion: 4, file: "dom.sxpr" });
    expect(out.xml).toContain("<name>pv</name>");
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(/^dom\.sxpr:1:1: .*never closed.*libvirt's reader accepts this/);
  });

  it("ignores text after the first expression silently, as libvirt does (xend 4.1.2 appends '')", () => {
    const out = parseDomain(`${PV()}\n''\n`, "0.6.2", { xendConfigVersion: 2 });
    expect(out.xml).toContain("<name>pv</name>");
    expect(out.warnings).toEqual([]);
    expect(parseDomain(`${PV()})`, "0.9.11", { xendConfigVersion: 4 }).warnings).toEqual([]);
  });

  it("refuses text that holds no list at all as input.sxpr with line and column", () => {
    const e = error("\n   ", "0.9.11");
    expect(e.code).toBe("input.sxpr");
    expect(e.pos).toMatchObject({ file: "dom.sxpr", line: 2 });
  });

  it("keeps backslashes raw and knows only single quotes", () => {
    const out = xml(`(domain (domid 6)(name 'a\\'b')${UUID}(memory 256)(maxmem 256)(vcpus 1)(image (linux (kernel '/k'))))`, "0.9.11");
    expect(out).toContain("<name>a\\&apos;b</name>");
  });
});

describe("libvirt's errors", () => {
  const cases: [string, string, Behaviour, string][] = [
    ["missing name", `(domain (domid 1)${UUID}(image (linux (kernel '/k'))))`, "0.9.11", "domain information incomplete, missing name"],
    ["missing uuid (libvirt says 'name')", "(domain (domid 1)(name 'x')(image (linux (kernel '/k'))))", "0.6.2", "domain information incomplete, missing name"],
    ["unknown lifecycle action", PV("(on_reboot 'explode')"), "0.9.11", "unknown lifecycle type explode"],
    ["PV without kernel or bootloader", `(domain (domid 1)(name 'x')${UUID}(image (linux (root '/dev/xvda1'))))`, "0.9.11", "domain information incomplete, missing kernel & bootloader"],
    ["HVM without loader", `(domain (domid 1)(name 'x')${UUID}(image (hvm (boot c))))`, "0.6.2", "domain information incomplete, missing HVM loader"],
    ["vbd without dev", PV("(device (vbd (uname 'file:/x')))"), "0.9.11", "domain information incomplete, vbd has no dev"],
    ["vbd without driver", PV("(device (vbd (dev 'xvda')(uname '/x')))"), "0.9.11", "cannot parse vbd filename, missing driver name"],
    ["tap without type", PV("(device (tap (dev 'xvda')(uname 'tap:/x')))"), "0.9.11", "cannot parse vbd filename, missing driver type"],
    ["bad mac", PV("(device (vif (mac '00:11:22:33:44')(bridge 'br0')))"), "0.9.11", "malformed mac address '00:11:22:33:44'"],
    ["PCI without slot", PV("(device (pci (dev (domain 0)(bus 0)(func 0))))"), "0.9.11", "missing PCI slot"],
    ["PCI bus not a number", PV("(device (pci (dev (domain 0)(bus zz)(slot 1)(func 0))))"), "0.9.11", "cannot parse PCI bus 'zz'"],
    ["unknown serial type", HVM("(serial 'bogus:x')"), "0.9.11", "unknown chr device type 'bogus'"],
    ["tcp serial without port", HVM("(serial 'tcp:host')"), "0.9.11", "malformed char device string"],
    ["unknown vfb type", PV("(device (vfb (type 'carrier-pigeon')))"), "0.9.11", "unknown graphics type 'carrier-pigeon'"],
    ["sound model too long", HVM("(soundhw 'sb16,averyverylongmodel')"), "0.9.11", "Sound model averyverylongmodel too big for destination"],
    ["4.5.0 unknown tap format", PV("(device (tap (dev 'xvda')(uname 'tap:qcow3:/x')))"), "1.3.1", "Unknown driver type qcow3:/x"],
    ["4.5.0 bad vif rate", PV("(device (vif (bridge 'br0')(rate '10 KB/s')))"), "1.3.1", "Invalid rate '10 KB/s' specified"],
    ["4.5.0 disk name without index", PV("(device (vbd (dev 'cdrom')(uname 'file:/x')))"), "1.3.1", "Unknown disk name 'cdrom' and no address specified"],
    ["4.5.0 disk of unknown driver", PV("(device (vbd (dev 'xvda')(uname 'drbd:r0')))"), "1.3.1", "unexpected disk type 0"],
  ];
  for (const [name, sx, b, msg] of cases) {
    it(`${b}: ${name}`, () => {
      const e = error(sx, b);
      expect(e.code).toMatch(/^libvirt\./);
      expect(e.message).toBe(msg);
    });
  }

  it("0.9.5 with xend config version 2: domid is mandatory", () => {
    const sx = `(domain (name 'x')${UUID}(image (linux (kernel '/k'))))`;
    expect(error(sx, "0.9.5", 2).message).toBe("domain information incomplete, missing id");
    expect(xml(sx, "0.9.5", 3)).toContain("<name>x</name>");
  });

  it("4.5.0 needs a memory size", () => {
    const e = error(`(domain (domid 6)(name 'pv')${UUID}(vcpus 1)(image (linux (kernel '/k'))))`, "1.3.1");
    expect(e.code).toBe("libvirt.parse");
    expect(e.message).toBe("Memory size must be specified via <memory> or in the <numa> configuration");
  });
});

describe("release differences", () => {
  it("a domain without domid: 0.6.2 still names the vif after id -1, 0.9.5 leaves it out", () => {
    const sx = `(domain (name 'x')${UUID}(memory 256)(maxmem 256)(vcpus 1)(image (linux (kernel '/k')))(device (vif (bridge 'br0'))))`;
    expect(xml(sx, "0.6.2", 3)).toContain("<target dev='vif-1.0'/>");
    expect(xml(sx, "0.9.5", 3)).not.toContain("<target dev=");
    expect(xml(sx, "0.9.5", 3)).toMatch(/^<domain type='xen'>/);
  });

  it("dom0 (domid 0): 0.6.2 fakes a PV console, 0.9.5 does not", () => {
    const sx = PV("", "(domid 0)");
    expect(xml(sx, "0.6.2", 3)).toContain("<console type='pty'>");
    expect(xml(sx, "0.9.5", 3)).not.toContain("<console");
  });

  it("a bootable disk moves to the front from 0.9.5 on", () => {
    const sx = PV("(device (vbd (dev 'xvda')(uname 'file:/a')))(device (vbd (dev 'xvdb')(uname 'file:/b')(bootable 1)))");
    const old = xml(sx, "0.6.2", 3);
    const neu = xml(sx, "0.9.5", 3);
    expect(old.indexOf("/a'")).toBeLessThan(old.indexOf("/b'"));
    expect(neu.indexOf("/b'")).toBeLessThan(neu.indexOf("/a'"));
  });

  it("a serial device path is only kept from 0.9.5 on", () => {
    expect(xml(HVM("(serial '/dev/ttyS0')"), "0.6.2", 3)).not.toContain("<source path=");
    expect(xml(HVM("(serial '/dev/ttyS0')"), "0.9.5", 3)).toContain("<source path='/dev/ttyS0'/>");
  });

  it("a tcp serial without host: '(null)' before 4.5.0, no host attribute in 4.5.0", () => {
    expect(xml(HVM("(serial 'tcp::99')"), "0.9.11")).toContain("<source mode='connect' host='(null)' service='99'/>");
    expect(xml(HVM("(serial 'tcp::99')"), "1.3.1")).toContain("<source mode='connect' service='99'/>");
  });

  it("vcpu counts were unsigned short before 1.3.1", () => {
    expect(xml(PV().replace("(vcpus 2)", "(vcpus 65538)"), "0.9.11")).toContain("<vcpu>2</vcpu>");
    expect(xml(PV().replace("(vcpus 2)", "(vcpus 65538)"), "1.3.1")).toContain("<vcpu placement='static'>65538</vcpu>");
  });

  it("old-style HVM VNC: xend config version 1 shows port 5900+id before 4.5.0", () => {
    expect(xml(HVM("(vnc 1)"), "0.9.11", 1)).toContain("<graphics type='vnc' port='5903' autoport='no'/>");
    expect(xml(HVM("(vnc 1)"), "0.9.11", 2)).toContain("<graphics type='vnc' port='-1' autoport='yes'/>");
  });

  it("4.5.0 IPv6 vif addresses get family ipv6", () => {
    expect(xml(PV("(device (vif (bridge 'br0')(ip '2001:db8:0:0::1')))"), "1.3.1")).toContain("<ip address='2001:db8::1' family='ipv6'/>");
  });
});

describe("helpers", () => {
  it("parses vif rates into KB/s", () => {
    expect(parseVifRate("10240KB/s")).toBe(10240n);
    expect(parseVifRate("1MB/s@20ms")).toBe(1024n);
    expect(parseVifRate("8Mb/s")).toBe(1024n);
    expect(parseVifRate("1GB/s")).toBe(1048576n);
  });

  it("maps disk names to indexes like virDiskNameToIndex", () => {
    expect(diskNameToIndex("hda")).toBe(0);
    expect(diskNameToIndex("hdc")).toBe(2);
    expect(diskNameToIndex("sdz")).toBe(25);
    expect(diskNameToIndex("vdaa")).toBe(26);
    expect(diskNameToIndex("xvda1")).toBe(0);
    expect(diskNameToIndex("cdrom")).toBe(-1);
    expect(diskNameToIndex("hda1x")).toBe(-1);
  });
});

describe("a xend-style pretty-printed dump", () => {
  const DUMP = `(domain
    (domid 5)
    (on_crash restart)
    (uuid 2f3c6f0e-1b2a-4c5d-8e9f-0a1b2c3d4e5f)
    (bootloader_args )
    (vcpus 2)
    (vcpu_avail 1)
    (name hvm1)
    (on_poweroff destroy)
    (on_reboot restart)
    (bootloader )
    (maxmem 512)
    (memory 512)
    (image
        (hvm
            (kernel )
            (device_model /usr/lib/xen/bin/qemu-dm)
            (loader /usr/lib/xen/boot/hvmloader)
            (localtime 1)
            (rtc_timeoffset 3600)
            (serial pty)
            (acpi 1)
            (apic 1)
            (pae 1)
            (boot cd)
        )
    )
    (status 2)
    (device (vif (bridge xenbr0) (mac 00:16:3e:12:34:56) (script vif-bridge) (backend 0)))
    (device (vbd (uname file:/x.img) (dev hda:disk) (mode w) (backend 0)))
    (device (console (protocol vt100) (location 2)))
)
''`;

  it("0.9.11 with xend config format 4 reads it as variable, localtime-based", () => {
    const out = parseDomain(DUMP, "0.9.11", { xendConfigVersion: 4 });
    expect(out.warnings).toEqual([]);
    expect(out.xml).toContain("<vcpu current='1'>2</vcpu>");
    expect(out.xml).toContain("<clock offset='variable' adjustment='3600' basis='localtime'/>");
    expect(out.xml).toContain("<boot dev='hd'/>\n    <boot dev='cdrom'/>");
    expect(out.xml).toContain("<serial type='pty'>\n      <target port='0'/>\n    </serial>\n    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>");
  });

  it("rfc-2012 reads localtime with a warning for the lost offset", () => {
    const out = parseDomain(DUMP, "rfc-2012", { xendConfigVersion: 4 });
    expect(out.xml).toContain("<clock offset='localtime'/>");
    expect(out.warnings).toEqual(["no mapping for localtime=1 with rtc_timeoffset=3600 to libvirt's XML"]);
  });

  it("0.6.2 shows localtime and loses the offset silently", () => {
    const out = parseDomain(DUMP, "0.6.2", { xendConfigVersion: 4 });
    expect(out.xml).toContain("<clock offset='localtime'/>");
    expect(out.warnings).toEqual([]);
  });
});
