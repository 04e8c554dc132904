/** The conformance cases of one libvirt tag: libvirt's cases.tsv, with build-variant rows marked. */
import { readFileSync } from "node:fs";

export interface ConformanceCase {
  tag: string;
  direction: "sexpr2xml" | "xml2sexpr";
  input: string;
  expected: string;
  /** The xend config version libvirt's test driver passed (v4.5.0: none, its code behaves as 4). */
  xendConfigVersion: number;
  domainName?: string;
  /** Set when only a non-default libvirt build runs this row (see fixtures/libvirt-tests/README.md). */
  buildVariant?: { condition: string; defaultRunsInstead: string };
}

const variants = readFileSync("fixtures/libvirt-tests/BUILD-VARIANTS.tsv", "utf8")
  .trim()
  .split("\n")
  .slice(1)
  .map((l) => l.split("\t"));

export function loadConformanceCases(tag: string): ConformanceCase[] {
  const rows = readFileSync(`fixtures/libvirt-tests/${tag}/cases.tsv`, "utf8").trim().split("\n").slice(1);
  return rows.map((r) => {
    const [direction, input, expected, version, domainName] = r.split("\t");
    const v = variants.find((x) => x[0] === tag && x[1] === direction && x[2] === input && x[3] === expected && x[4] === version);
    return {
      tag,
      direction: direction as ConformanceCase["direction"],
      input,
      expected,
      xendConfigVersion: version === "-" || !version ? 4 : Number(version),
      domainName: domainName && domainName !== "-" ? domainName : undefined,
      buildVariant: v ? { condition: v[5], defaultRunsInstead: v[6] } : undefined,
    };
  });
}
