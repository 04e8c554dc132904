/**
 * Figure 4, conversion: profile.format (XML → SXPR, libvirt's xml2sexpr cases) and profile.parse
 * (SXPR → XML, sexpr2xml cases) over every conformance case of fixtures/libvirt-tests, each case
 * through the profile its tag pins. Inputs are read once beforehand; only the conversion is timed.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { conformanceTagOf, forgetFormatted, listProfiles, type ModelProfile } from "../../harness/libvirt/index.js";
import { projectRoot } from "../../harness/matrix/index.js";
import { stripContinuations } from "../../harness/sxp/index.js";
import type { Figure } from "../report.js";
import { fmtInt, fmtMs, interleave, median } from "../stats.js";

interface Case {
  profile: ModelProfile;
  text: string;
  version: number;
}

function loadCases(root: string): { format: Case[]; parse: Case[]; tags: string[]; variants: number } {
  const base = path.join(root, "fixtures", "libvirt-tests");
  const variantRows = new Set(
    existsSync(path.join(base, "BUILD-VARIANTS.tsv"))
      ? readFileSync(path.join(base, "BUILD-VARIANTS.tsv"), "utf8")
          .trim()
          .split("\n")
          .slice(1)
          .map((l) => l.split("\t").slice(0, 5).join("\t"))
      : [],
  );
  const format: Case[] = [];
  const parse: Case[] = [];
  const tags: string[] = [];
  let variants = 0;
  for (const profile of listProfiles()) {
    const tag = conformanceTagOf(profile.id);
    if (!tag || !existsSync(path.join(base, tag, "cases.tsv"))) continue;
    tags.push(tag);
    const rows = readFileSync(path.join(base, tag, "cases.tsv"), "utf8").trim().split("\n").slice(1);
    for (const row of rows) {
      const [direction, input, expected, version] = row.split("\t");
      // Rows only a non-default libvirt build runs (fixtures/libvirt-tests/README.md) are left out, as the conformance tests do.
      if (variantRows.has([tag, direction, input, expected, version].join("\t"))) {
        variants++;
        continue;
      }
      const v = version === "-" || !version ? 4 : Number(version);
      if (direction === "xml2sexpr") format.push({ profile, text: readFileSync(path.join(base, tag, "xml2sexprdata", input), "utf8"), version: v });
      else if (direction === "sexpr2xml")
        parse.push({ profile, text: stripContinuations(readFileSync(path.join(base, tag, "sexpr2xmldata", input), "utf8")), version: v });
    }
  }
  return { format, parse, tags, variants };
}

export async function conversionFigure(o: { quick: boolean }): Promise<Figure> {
  const { format, parse, tags, variants } = loadCases(projectRoot());
  if (!format.length && !parse.length) return { id: "conversion", skipped: "no conformance cases in fixtures/libvirt-tests" };
  let fmtErrors = 0;
  let parseErrors = 0;
  const passFormat = () => {
    let n = 0;
    fmtErrors = 0;
    // formatDomain remembers its outcomes by input: forgotten before each pass, so the format is timed, not the memo.
    forgetFormatted();
    for (const c of format) {
      try {
        n += c.profile.format(c.text, { xendConfigVersion: c.version }).sxpr.length;
      } catch {
        fmtErrors++;
      }
    }
    return n;
  };
  const passParse = () => {
    let n = 0;
    parseErrors = 0;
    for (const c of parse) {
      try {
        n += c.profile.parse(c.text, { xendConfigVersion: c.version }).xml.length;
      } catch {
        parseErrors++;
      }
    }
    return n;
  };
  // Calibrate (after one warm-up pass): each timed repetition runs enough passes to last ~150 ms.
  passFormat();
  passParse();
  const t0 = performance.now();
  passFormat();
  passParse();
  const one = Math.max(0.1, performance.now() - t0);
  const passes = Math.max(1, Math.ceil(150 / one));
  const reps = o.quick ? 5 : 15;
  const s = await interleave(
    [
      { name: "format", run: () => { for (let i = 0; i < passes; i++) passFormat(); } },
      { name: "parse", run: () => { for (let i = 0; i < passes; i++) passParse(); } },
    ],
    reps,
    2,
  );
  const fMs = median(s.get("format")!.ms) / (passes * format.length);
  const pMs = median(s.get("parse")!.ms) / (passes * parse.length);
  return {
    id: "conversion",
    line:
      `format (XML→SXPR) ${fmtInt(1000 / fMs)} cases/s (${fmtMs(fMs)}/case, ${format.length} cases${fmtErrors ? `, ${fmtErrors} refused` : ""}) | ` +
      `parse (SXPR→XML) ${fmtInt(1000 / pMs)} cases/s (${fmtMs(pMs)}/case, ${parse.length} cases${parseErrors ? `, ${parseErrors} refused` : ""}) | ` +
      `tags ${tags.join(" ")}${variants ? `, ${variants} build-variant rows left out` : ""} | medians of ${reps} interleaved reps × ${passes} passes`,
    data: { formatCasesPerSec: 1000 / fMs, parseCasesPerSec: 1000 / pMs, formatCases: format.length, parseCases: parse.length, formatRefused: fmtErrors, parseRefused: parseErrors, reps, passes, tags },
  };
}
