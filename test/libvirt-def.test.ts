/**
 * The one domain definition (harness/libvirt/def): both parsers fill the same DomainDef and both
 * formatters read it, and a name libvirt's enums gained in a release (a row of the table) is known
 * to both directions of that release at once, as in libvirt, where xenParseSxpr and the domain XML
 * parser share domain_conf.c's enums. Two release differences the separate models had wrong, checked
 * against libvirt's C at the tags (no shipped suite case covers them):
 * - 0.8.8–0.9.4 write (hap 1) / (viridian 1) for <hap/> / <viridian/> (v0.8.8 src/xen/xend_internal.c,
 *   v0.9.3 src/xenxs/xen_sxpr.c); the old SXPR formatter wrote them only from 0.9.5's model on.
 * - 0.8.8–0.9.4 read a `spicevmc` character device from SXPR (xenParseSxprChar calls
 *   virDomainChrTypeFromString, whose enum gained spicevmc in 0.8.8); the old SXPR parser knew it from 0.9.5 on.
 */
import { describe, expect, it } from "vitest";
import { test as fcTest, fc } from "@fast-check/vitest";
import { runs } from "./support/fuzz.js";
import { HarnessError } from "../harness/errors.js";
import { resolveProfile, type ModelProfile } from "../harness/libvirt/index.js";
import { parseDomainXml } from "../harness/libvirt/domxml/index.js";
import { formatDomainXml } from "../harness/libvirt/domxml/index.js";
import { formatSxpr, xenParseSxpr } from "../harness/libvirt/sxpr/index.js";
import { levelAt } from "../harness/libvirt/releases.js";
import { readSxpr } from "../harness/sxp/index.js";
import { refusal } from "./support/refusal.js";

const profile = (v: string) => resolveProfile(v) as ModelProfile;

const HVM_XML = (features: string, devices = "") => `<domain type='xen'>
  <name>h</name>
  <uuid>596a5d21-71f4-8fb2-e068-e2386a5c413e</uuid>
  <os><type>hvm</type><loader>/usr/lib/xen/boot/hvmloader</loader></os>
  <memory>262144</memory>
  <features>${features}</features>
  <devices>${devices}</devices>
</domain>`;

const HVM_SXPR = (img: string) =>
  `(domain (domid 3)(name 'fv')(uuid '596a5d2171f48fb2e068e2386a5c413e')(memory 256)(maxmem 256)(vcpus 1)(image (hvm (kernel '/usr/lib/xen/boot/hvmloader')${img})))`;

describe("one definition for both directions", () => {
  it("a domain read from XML formats to SXPR, and that SXPR read back formats to XML, through one DomainDef type", () => {
    const level = levelAt("0.9.11");
    const def = parseDomainXml(HVM_XML("<acpi/><pae/>"), { release: "0.9.11", level });
    expect(def.uuid).toBeInstanceOf(Uint8Array);
    expect(def.maxMemory).toBe(262144n);
    const sxpr = formatSxpr(def, "0.9.11", 4, level);
    const back = xenParseSxpr(readSxpr(`(domain (domid 3)${sxpr.slice("(vm ".length)}`), { rel: "0.9.11", clockRule: "0.9.11", level, xendConfigVersion: 4, warnings: [] });
    expect(back.maxMemory).toBe(def.maxMemory);
    expect([...back.features]).toEqual([...def.features]);
    expect(back.uuid).toEqual(def.uuid);
    const xml = formatDomainXml(back, "0.9.11", level);
    expect(xml).toContain("<uuid>596a5d21-71f4-8fb2-e068-e2386a5c413e</uuid>");
    expect(xml).toContain("<features>\n    <acpi/>\n    <pae/>\n  </features>");
  });

  it("0.8.8 and 0.9.3 write the HAP and viridian features they read (libvirt 0.8.8 xend_internal.c, 0.9.3 xen_sxpr.c)", () => {
    expect(profile("0.8.8").format(HVM_XML("<hap/>"), { xendConfigVersion: 4 }).sxpr).toContain("(hap 1)");
    expect(profile("0.9.3").format(HVM_XML("<hap/><viridian/>"), { xendConfigVersion: 4 }).sxpr).toContain("(hap 1)(viridian 1)");
    // before the rows, the parser does not know them at all
    expect(refusal(() => profile("0.8.7").format(HVM_XML("<hap/>"), { xendConfigVersion: 4 })).message).toBe("unexpected feature hap");
    expect(refusal(() => profile("0.9.2").format(HVM_XML("<viridian/>"), { xendConfigVersion: 4 })).message).toBe("unexpected feature viridian");
    // and read back: the SXPR parser asks the same enum
    expect(profile("0.8.8").parse(HVM_SXPR("(hap 1)"), { xendConfigVersion: 4 }).xml).toContain("<hap/>");
    expect(profile("0.8.7").parse(HVM_SXPR("(hap 1)"), { xendConfigVersion: 4 }).xml).not.toContain("<hap/>");
  });

  it("the spicevmc character device type is known to both directions from 0.8.8 (one enum, the spicevmc row)", () => {
    const serial = "(serial spicevmc)";
    expect(profile("0.8.8").parse(HVM_SXPR(serial), { xendConfigVersion: 4 }).xml).toContain("<serial type='spicevmc'>");
    expect(refusal(() => profile("0.8.7").parse(HVM_SXPR(serial), { xendConfigVersion: 4 })).message).toBe("unknown chr device type 'spicevmc'");
    // the domain XML parser of the same releases agrees: 0.8.8 keeps the type (and its formatter, with no
    // branch for it, writes no name), 0.8.7 takes the unknown type as null
    const dev = "<serial type='spicevmc'/>";
    expect(profile("0.8.8").format(HVM_XML("", dev), { xendConfigVersion: 4 }).sxpr).toContain("(serial )");
    expect(profile("0.8.7").format(HVM_XML("", dev), { xendConfigVersion: 4 }).sxpr).toContain("(serial null)");
  });

  it("sound models: one list per release for both parsers (ich6 from 0.8.8)", () => {
    for (const [v, known] of [["0.8.7", false], ["0.8.8", true]] as const) {
      const p = profile(v);
      const parsed = () => p.parse(HVM_SXPR("(soundhw 'ich6')"), { xendConfigVersion: 4 });
      const formatted = () => p.format(HVM_XML("", "<sound model='ich6'/>"), { xendConfigVersion: 4 });
      if (known) {
        expect(parsed().xml).toContain("<sound model='ich6'/>");
        expect(formatted().sxpr).toContain("(soundhw 'ich6')");
      } else {
        expect(parsed).toThrow(HarnessError);
        expect(formatted).toThrow("unknown sound model 'ich6'");
      }
    }
  });
});

describe("a domain's core fields survive XML → definition → SXPR → definition → XML in every era", () => {
  const eras = ["0.8.7", "0.9.10", "0.9.11", "1.3.0", "1.3.1", "4.5.0"] as const;
  fcTest.prop(
    [
      fc.constantFrom(...eras),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      // MiB, so that rounding to MiB on the way to SXPR loses nothing; beyond 2^53 KiB (bigint in the definition)
      fc.bigInt({ min: 1n, max: 1n << 44n }),
      fc.integer({ min: 1, max: 64 }),
      fc.constantFrom("hvm", "linux"),
    ],
    { numRuns: runs(200), seed: 4242 },
  )("uuid, memory, vcpus and OS type read back as written", (v, uuid, mib, vcpus, os) => {
    const hex = Array.from(uuid, (b) => b.toString(16).padStart(2, "0")).join("");
    const u = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const kib = mib * 1024n;
    const boot = os === "hvm" ? "<loader>/usr/lib/xen/boot/hvmloader</loader>" : "<kernel>/boot/vmlinuz</kernel>";
    const xml = `<domain type='xen'><name>p</name><uuid>${u}</uuid><memory>${kib}</memory><vcpu>${vcpus}</vcpu><os><type>${os}</type>${boot}</os></domain>`;
    const p = profile(v);
    const sxpr = p.format(xml, { xendConfigVersion: 4 }).sxpr;
    expect(sxpr).toContain(`(memory ${mib})(maxmem ${mib})(vcpus ${vcpus})`);
    const back = p.parse(`(domain (domid 1)${sxpr.slice("(vm ".length)}`, { xendConfigVersion: 4 }).xml;
    expect(back).toContain(`<uuid>${u}</uuid>`);
    expect(back).toMatch(new RegExp(`<memory( unit='KiB')?>${kib}</memory>`));
    expect(back).toMatch(new RegExp(`>${vcpus}</vcpu>`));
    expect(back).toContain(`<type>${os === "hvm" ? "hvm" : "linux"}</type>`);
  });
});
