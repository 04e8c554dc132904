/**
 * Fuzzing both libvirt directions with fast-check (fixed seeds and run counts; FUZZ_RUNS=N to run
 * longer): the domain XML reader behind profile.format (harness/libvirt/domxml) and the SXPR→XML
 * parser behind profile.parse (harness/libvirt/sxpr), for every profile, on mutations of real inputs
 * (libvirt's own test data and the project's domain fixtures) and on generated documents. Any thrown
 * error that is not a HarnessError is a crash and fails.
 */
import { test as fcTest, fc } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { listProfiles } from "../harness/libvirt/index.js";
import { stripContinuations, printSxpr, type Sx } from "../harness/sxp/index.js";
import { files, mutated, onlyHarnessErrors, runs, texts, timeoutFor } from "./support/fuzz.js";

const TAGS = ["v0.8.7", "v0.9.10", "v0.9.11", "v4.5.0"];
const XML_SEEDS = texts([...files(TAGS.map((t) => `fixtures/libvirt-tests/${t}/xml2sexprdata`), ".xml"), ...files(["fixtures/domains"], ".xml")]);
const SXPR_SEEDS = texts(files(TAGS.map((t) => `fixtures/libvirt-tests/${t}/sexpr2xmldata`), ".sexpr")).map(stripContinuations);
const PROFILES = listProfiles();

const XML_RUNS = runs(300);
const SXPR_RUNS = runs(300);
const GEN_RUNS = runs(200);

describe("fuzz: libvirt XML → SXPR (domain XML reader and formatter)", () => {
  expect(XML_SEEDS.length).toBeGreaterThan(50);
  fcTest.prop([mutated(XML_SEEDS), fc.constantFrom(1, 2, 4)], { numRuns: XML_RUNS, seed: 1011 })(
    `mutated domain XML (${XML_SEEDS.length} seeds × ${PROFILES.length} profiles, ${XML_RUNS} runs, seed 1011): only HarnessErrors`,
    (xml, cfg) => {
      for (const p of PROFILES) onlyHarnessErrors(() => p.format(xml, { xendConfigVersion: cfg, file: "fuzz.xml" }));
    }, timeoutFor(XML_RUNS));

  const attr = fc.string({ unit: fc.constantFrom(..."abc019-_.:/ <>&'\"%+\u00e9".split("")), maxLength: 10 });
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/'/g, "&apos;");
  const clockArb = fc.record(
    {
      offset: fc.oneof(fc.constantFrom("utc", "localtime", "variable", "timezone", ""), attr),
      adjustment: fc.oneof(fc.constantFrom("reset", "0", "-7200", "3600", "99999999999999999999", "1.5", ""), attr),
      basis: fc.oneof(fc.constantFrom("utc", "localtime"), attr),
      timezone: attr,
    },
    { requiredKeys: [] },
  );
  const domArb = fc.record({
    type: fc.constantFrom("xen", "kvm", "", "x'y"),
    name: fc.option(attr),
    uuid: fc.option(fc.oneof(fc.uuid(), attr)),
    memory: fc.option(fc.oneof(fc.constantFrom("0", "-1", "262144", "1e9", "18446744073709551616"), attr)),
    ostype: fc.constantFrom("hvm", "linux", "xen", "", "exe"),
    clock: fc.option(clockArb),
    cmdline: fc.option(attr),
    vcpu: fc.option(fc.oneof(fc.constantFrom("0", "1", "65536", "-3"), attr)),
    graphics: fc.option(fc.record({ type: fc.constantFrom("vnc", "sdl", "spice", "x"), port: fc.constantFrom("-1", "5900", "x", "99999"), passwd: attr })),
  });
  fcTest.prop([domArb, fc.constantFrom(1, 2, 4)], { numRuns: GEN_RUNS, seed: 2012 })(
    `generated domain XML (${GEN_RUNS} runs × ${PROFILES.length} profiles, seed 2012): only HarnessErrors`,
    (d, cfg) => {
      const clock = d.clock ? `<clock${Object.entries(d.clock).map(([k, v]) => ` ${k}='${esc(v)}'`).join("")}/>` : "";
      const xml =
        `<domain type='${esc(d.type)}'>` +
        (d.name !== null ? `<name>${esc(d.name)}</name>` : "") +
        (d.uuid !== null ? `<uuid>${esc(d.uuid)}</uuid>` : "") +
        (d.memory !== null ? `<memory>${esc(d.memory)}</memory>` : "") +
        (d.vcpu !== null ? `<vcpu>${esc(d.vcpu)}</vcpu>` : "") +
        `<os><type>${esc(d.ostype)}</type>${d.ostype === "linux" ? "<kernel>/boot/vmlinuz</kernel>" : ""}${d.cmdline !== null ? `<cmdline>${esc(d.cmdline)}</cmdline>` : ""}</os>` +
        clock +
        `<devices>${d.graphics ? `<graphics type='${d.graphics.type}' port='${d.graphics.port}' passwd='${esc(d.graphics.passwd)}'/>` : ""}</devices></domain>`;
      for (const p of PROFILES) onlyHarnessErrors(() => p.format(xml, { xendConfigVersion: cfg }));
    }, timeoutFor(GEN_RUNS));
});

describe("fuzz: libvirt SXPR → XML (parse)", () => {
  expect(SXPR_SEEDS.length).toBeGreaterThan(50);
  fcTest.prop([mutated(SXPR_SEEDS), fc.constantFrom(1, 2, 4)], { numRuns: SXPR_RUNS, seed: 1012 })(
    `mutated SXPR (${SXPR_SEEDS.length} seeds × ${PROFILES.length} profiles, ${SXPR_RUNS} runs, seed 1012): only HarnessErrors`,
    (sxpr, cfg) => {
      for (const p of PROFILES) onlyHarnessErrors(() => p.parse(sxpr, { xendConfigVersion: cfg, file: "fuzz.sexpr" }));
    }, timeoutFor(SXPR_RUNS));

  const val = fc.oneof(
    fc.constantFrom("0", "1", "-1", "", "3600", "-7200", "99999999999999999999", "1.5", "x", "(", "'", "localtime", "utc"),
    fc.string({ maxLength: 6 }),
  );
  const keys = ["name", "uuid", "memory", "maxmem", "vcpus", "localtime", "rtc_timeoffset", "on_poweroff", "bootloader", "cpus", "domid", "state", "kernel", "args", "boot", "vnc", "vncunused", "vncdisplay", "serial", "usbdevice", "type", "uname", "dev", "mode", "mac", "bridge", "vcpu_avail", "timer_mode", "shadow_memory", "cpu_weight"];
  const leaf: fc.Arbitrary<Sx> = fc.tuple(fc.constantFrom(...keys), val).map(([k, v]) => [k, v]);
  const section = (name: string, inner: fc.Arbitrary<Sx>) => fc.array(inner, { maxLength: 6 }).map((xs): Sx => [name, ...xs]);
  const image = fc.oneof(section("hvm", leaf), section("linux", leaf)).map((x): Sx => ["image", x]);
  const device = fc.oneof(section("vbd", leaf), section("vif", leaf), section("vfb", leaf), section("console", leaf), section("pci", leaf)).map((x): Sx => ["device", x]);
  const domainArb = fc.tuple(fc.constantFrom("domain", "vm", "node"), fc.array(fc.oneof(leaf, image, device), { maxLength: 12 })).map(([head, xs]): Sx => [head, ...xs]);
  fcTest.prop([domainArb, fc.constantFrom("xend", "xend-3", "libvirt"), fc.constantFrom(1, 2, 4)], { numRuns: GEN_RUNS, seed: 2013 })(
    `generated domain SXPR (${GEN_RUNS} runs × ${PROFILES.length} profiles, seed 2013): only HarnessErrors`,
    (tree, style, cfg) => {
      const text = printSxpr(tree, { style: style as "xend" | "xend-3" | "libvirt" });
      for (const p of PROFILES) onlyHarnessErrors(() => p.parse(text, { xendConfigVersion: cfg }));
    }, timeoutFor(GEN_RUNS));
});
