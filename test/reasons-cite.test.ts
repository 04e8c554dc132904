/**
 * Reasons a user can follow: every reference in a shipped matrix's expectations (and in the xend race
 * list) cites a public source (a libvirt commit with its release, a Xen or libvirt file:line at a
 * release, a mailing-list post) or a page shipped in the package's docs/ whose anchors exist; nothing
 * cites the developers' private notes (facts/*.md), which a user of the package does not have.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { XEND_RACES } from "../harness/run/races.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const MATRICES = fs.readdirSync(path.join(ROOT, "matrices")).filter((f) => /\.ya?ml$/.test(f));

/** The anchors a shipped docs page offers: explicit `<a id>` and GitHub's slugs of its headings. */
function anchorsOf(file: string): Set<string> {
  const text = fs.readFileSync(file, "utf8");
  const ids = new Set<string>();
  for (const m of text.matchAll(/<a id="([^"]+)"><\/a>/g)) ids.add(m[1]);
  for (const m of text.matchAll(/^#+ (.*)$/gm))
    ids.add(m[1].trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-"));
  return ids;
}

/** What is wrong with a reference, or undefined when a user can follow it. */
function problem(ref: string): string | undefined {
  if (/facts\//.test(ref)) return "cites the developers' facts/ notes, which the package does not ship";
  const docs = [...ref.matchAll(/docs\/([\w.-]+\.md)((?:#[\w-]+)?)/g)];
  for (const [, file, anchor] of docs) {
    const p = path.join(ROOT, "docs", file);
    if (!fs.existsSync(p)) return `cites docs/${file}, which does not exist`;
    if (anchor && !anchorsOf(p).has(anchor.slice(1))) return `cites docs/${file}${anchor}, an anchor that page lacks`;
  }
  // Further anchors written as "and #name" refer to the same page.
  const lastDoc = docs.at(-1)?.[1];
  for (const m of ref.matchAll(/(?:and|,) #([\w-]+)/g)) {
    if (!lastDoc || !anchorsOf(path.join(ROOT, "docs", lastDoc)).has(m[1])) return `cites #${m[1]}, which no cited page has`;
  }
  const publicSource =
    docs.length > 0 ||
    /\b(Xen|libvirt) \d+\.\d+(\.\d+)* [\w./-]+:\d+/.test(ref) ||
    /libvir-list|xen-devel|https?:\/\//.test(ref) ||
    /\bseed report\b/.test(ref);
  return publicSource ? undefined : "cites nothing a user can look up (a docs/ page, a file:line at a release, a commit or a post)";
}

describe("reasons cite what a user can follow", () => {
  for (const file of MATRICES) {
    it(`matrices/${file}: every expectation's fixedBy is a commit with its release and every report is public or shipped`, () => {
      const doc = parseYaml(fs.readFileSync(path.join(ROOT, "matrices", file), "utf8")) as { expectations?: Array<Record<string, string>> };
      for (const e of doc.expectations ?? []) {
        if (e.fixedBy) expect(e.fixedBy, `${file}: ${e.cells}`).toMatch(/^[0-9a-f]{7,40} \(\d+\.\d+\.\d+(\.\d+)?\)$/);
        if (e.report) expect(problem(e.report), `${file}: ${e.cells}: ${e.report}`).toBeUndefined();
        expect(e.reason ?? "", `${file}: ${e.cells}`).not.toMatch(/facts\//);
      }
    });
  }

  it("the xend race list explains itself with shipped or public sources", () => {
    for (const r of XEND_RACES) expect(problem(r.why), r.why).toBeUndefined();
  });

  it("a reference to facts/, a missing docs page or anchor, or nothing at all is caught", () => {
    expect(problem('facts/xend.md "3.2 vs later"')).toMatch(/facts/);
    expect(problem("docs/nope.md")).toMatch(/does not exist/);
    expect(problem("docs/clock.md#nope")).toMatch(/anchor/);
    expect(problem("docs/clock.md#timezone and #nope")).toMatch(/#nope/);
    expect(problem("somewhere")).toMatch(/nothing a user can look up/);
    expect(problem("Xen 3.2.2 tools/python/xen/xend/XendDomainInfo.py:1708")).toBeUndefined();
  });
});
