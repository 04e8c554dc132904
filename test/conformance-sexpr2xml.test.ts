/**
 * libvirt's own sexpr2xml suites (fixtures/libvirt-tests/<tag>/): every case must give libvirt's
 * expected XML byte for byte, after libvirt's loader rule (trailing backslash-newline pairs removed).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDomain } from "../harness/libvirt/convert.js";
import type { Behaviour } from "../harness/libvirt/types.js";
import { stripContinuations } from "../harness/sxp/index.js";

const ROOT = join(import.meta.dirname, "..", "fixtures", "libvirt-tests");
const TAGS: [string, Behaviour][] = [
  ["v0.8.7", "0.6.2"],
  ["v0.9.10", "0.9.5"],
  ["v0.9.11", "0.9.11"],
  ["v4.5.0", "1.3.1"],
];

for (const [tag, behaviour] of TAGS) {
  const rows = readFileSync(join(ROOT, tag, "cases.tsv"), "utf8")
    .split("\n")
    .slice(1)
    .filter((l) => l.trim() !== "")
    .map((l) => l.split("\t"))
    .filter((r) => r[0] === "sexpr2xml");
  describe(`${tag} (${behaviour})`, () => {
    it("has sexpr2xml cases", () => {
      expect(rows.length).toBeGreaterThan(0);
    });
    for (const [, input, expected, version] of rows) {
      const v = version === "-" || version === "" ? 4 : Number(version);
      it(`${tag} sexpr2xml ${input} v${v}`, () => {
        const dir = join(ROOT, tag, "sexpr2xmldata");
        const sx = stripContinuations(readFileSync(join(dir, input), "utf8"));
        const want = stripContinuations(readFileSync(join(dir, expected), "utf8"));
        const got = parseDomain(sx, behaviour, { xendConfigVersion: v, file: input });
        expect(got.xml).toBe(want);
      });
    }
  });
}
