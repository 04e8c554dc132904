/**
 * libvirt's own xml2sexpr suites (fixtures/libvirt-tests/<tag>/cases.tsv): every `xml2sexpr` row must
 * give exactly the expected SXPR, compared the way libvirt's test driver of that tag compares:
 * both texts go through the loader rule (backslash-newline pairs removed); at v4.5.0 the driver
 * uses virTestCompareToFile, which also accepts a missing final newline when the file has one.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatDomain } from "../harness/libvirt/convert.js";
import type { Behaviour } from "../harness/libvirt/types.js";
import { stripContinuations } from "../harness/sxp/index.js";
import { loadConformanceCases } from "./conformance-cases.js";

const ROOT = join(import.meta.dirname, "..", "fixtures", "libvirt-tests");

const TAGS: { tag: string; behaviour: Behaviour; compareToFile: boolean }[] = [
  { tag: "v0.8.7", behaviour: "0.6.2", compareToFile: false },
  { tag: "v0.9.10", behaviour: "0.9.5", compareToFile: false },
  { tag: "v0.9.11", behaviour: "0.9.11", compareToFile: false },
  { tag: "v4.5.0", behaviour: "1.3.1", compareToFile: true },
];

interface Case {
  input: string;
  expected: string;
  version: number;
  versionLabel: string;
  buildVariant?: { condition: string; defaultRunsInstead: string };
}

function casesOf(tag: string): Case[] {
  return loadConformanceCases(tag)
    .filter((c) => c.direction === "xml2sexpr")
    .map((c) => ({
      input: c.input,
      expected: c.expected,
      version: c.xendConfigVersion,
      versionLabel: String(c.xendConfigVersion),
      buildVariant: c.buildVariant,
    }));
}

/** libvirt's comparison at the tag (see the file comment). */
function asLibvirtCompares(expectedFile: string, got: string, compareToFile: boolean): [string, string] {
  const exp = stripContinuations(expectedFile);
  let actual = stripContinuations(got);
  if (compareToFile && exp.endsWith("\n") && !actual.endsWith("\n")) actual += "\n";
  return [exp, actual];
}

for (const { tag, behaviour, compareToFile } of TAGS) {
  describe(`libvirt ${tag} xml2sexpr suite (behaviour ${behaviour})`, () => {
    const cases = casesOf(tag);
    it(`${tag} has xml2sexpr cases`, () => {
      expect(cases.length).toBeGreaterThan(40);
    });
    for (const c of cases) {
      // libvirt's driver has one pair under #ifdef WITH_RHEL5_API and one outside it; cases.tsv lists
      // both, so a name shared by rows with different expected files also names the expected file
      const base = `${tag} xml2sexpr ${c.input} v${c.versionLabel}`;
      const shared = cases.some((o) => o !== c && o.input === c.input && o.version === c.version && o.expected !== c.expected);
      const name = shared ? `${base} (expects ${c.expected})` : base;
      if (c.buildVariant) {
        // Only libvirt builds configured with this condition run the row; the default build runs the
        // other branch of the #ifdef (see fixtures/libvirt-tests/README.md, "Build variants").
        it.skip(`${name}: skipped, only libvirt builds ${c.buildVariant.condition} run it (default build: ${c.buildVariant.defaultRunsInstead})`, () => {});
        continue;
      }
      it(name, () => {
        const dir = join(ROOT, tag, "xml2sexprdata");
        const xml = readFileSync(join(dir, c.input), "utf8");
        const expectedFile = readFileSync(join(dir, c.expected), "utf8");
        const out = formatDomain(xml, behaviour, { xendConfigVersion: c.version, file: c.input });
        const [exp, actual] = asLibvirtCompares(expectedFile, out.sxpr, compareToFile);
        expect(actual).toBe(exp);
      });
    }
  });
}
