/**
 * The README's generated parts: the support table and "what we found", both derived from a run of the
 * default matrix. Only the text between `<!-- generated:<name>:begin -->` and
 * `<!-- generated:<name>:end -->` is ever replaced. Refresh with
 * `npx tsx harness/report/readme-cli.ts` (or `node dist/harness/report/readme-cli.js`); `--check`
 * exits 1 when README.md is out of date.
 */
import { HarnessError } from "../errors.js";
import { groupedAnswers, groupSupport, type CellResult, type SupportAnswer, type Verdict } from "../run/index.js";
import { renderSupportMarkdown } from "./markdown.js";
import type { RunReport } from "./model.js";
import { seriesLabel, seriesOf } from "../xend/index.js";

export interface Finding {
  verdict: Verdict;
  /** One line: what happens and why (the expectation's reason where the matrix has one). */
  text: string;
  /** The cells that show it. */
  cells: string[];
  fixedBy?: string;
  report?: string;
}

/** Replace instance names (xc-<scenario>-<slug>) so reasons of different cells compare equal. */
function normalizeReason(reason: string): string {
  return reason.replace(/\bxc-[a-z0-9-]+-v\d+[a-z]*\b/g, "<domain>");
}

/** Problems seen in the run: cells grouped by verdict and explanation, most cells first. */
export function findings(results: CellResult[]): Finding[] {
  const groups = new Map<string, Finding>();
  for (const r of results) {
    if (r.verdict === "preserved" || r.verdict === "skipped" || r.verdict === "error") continue;
    const explained = r.expectation && r.expectation.verdict === r.verdict;
    const text = explained ? r.expectation!.reason : normalizeReason(r.reason);
    const key = `${r.verdict}\u0000${text}`;
    let f = groups.get(key);
    if (!f) {
      f = { verdict: r.verdict, text, cells: [], fixedBy: explained ? r.expectation!.fixedBy : undefined, report: explained ? r.expectation!.report : undefined };
      groups.set(key, f);
    }
    f.cells.push(r.id);
  }
  return [...groups.values()].sort((a, b) => b.cells.length - a.cells.length || a.text.localeCompare(b.text));
}

/** Compact list of cells: `pv-localtime, pv-localtime-bootloader with libvirt 0.8.7 on xend 3.2, 3.4.3, 4.1.2`. */
export function compactCells(ids: string[]): string {
  // scenario → libvirt → xends, then merge libvirts with the same xends, then scenarios with the same rest
  const bySL = new Map<string, string[]>();
  const order: string[] = [];
  for (const id of ids) {
    const [x, l, s] = id.split("/");
    const k = `${s}\u0000${l}`;
    if (!bySL.has(k)) {
      bySL.set(k, []);
      order.push(k);
    }
    bySL.get(k)!.push(x);
  }
  const bySX = new Map<string, string[]>(); // scenario + xends → libvirts
  const order2: string[] = [];
  for (const k of order) {
    const [s, l] = k.split("\u0000");
    const k2 = `${s}\u0000${bySL.get(k)!.join(", ")}`;
    if (!bySX.has(k2)) {
      bySX.set(k2, []);
      order2.push(k2);
    }
    bySX.get(k2)!.push(l);
  }
  const byLX = new Map<string, string[]>(); // libvirts + xends → scenarios
  const order3: string[] = [];
  for (const k2 of order2) {
    const [s, xs] = k2.split("\u0000");
    const k3 = `${bySX.get(k2)!.join(", ")}\u0000${xs}`;
    if (!byLX.has(k3)) {
      byLX.set(k3, []);
      order3.push(k3);
    }
    byLX.get(k3)!.push(s);
  }
  return order3
    .map((k3) => {
      const [ls, xs] = k3.split("\u0000");
      return `${byLX.get(k3)!.join(", ")} with libvirt ${ls} on xend ${xs}`;
    })
    .join("; ");
}

export function renderSupportBlock(report: RunReport): string {
  return [
    `Support of each libvirt release (profile) by each xend version, from \`xend-compat run\` over the default matrix (${report.results.length} cells).`,
    "`full`: every scenario preserved; `partial`: nothing silently changed, but something was rejected (loudly) or did not run (error, skipped); `unsafe`: something silently changed; `untested`: nothing ran.",
    "",
    renderSupportMarkdown(report.support).trimEnd(),
  ].join("\n");
}

export function renderFindingsBlock(report: RunReport): string {
  const fs = findings(report.results);
  if (!fs.length) return "No cell lost or refused anything.";
  return fs
    .map((f) => {
      const refs = [f.fixedBy ? `fixed by ${f.fixedBy}` : "", f.report ? `see ${f.report}` : ""].filter(Boolean).join("; ");
      return `- **${f.verdict}**: ${f.text.replace(/\|/g, "\\|")}${refs ? ` (${refs})` : ""}. Cells: ${compactCells(f.cells)}.`;
    })
    .join("\n");
}

/** Replace the text between the begin/end markers of block `name`; the markers must both exist. */
export function replaceBlock(text: string, name: string, content: string): string {
  const begin = `<!-- generated:${name}:begin -->`;
  const end = `<!-- generated:${name}:end -->`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < 0 || j < i) throw new HarnessError("input.file", `README.md has no ${begin} … ${end} block`);
  return text.slice(0, i + begin.length) + "\n" + content.trimEnd() + "\n" + text.slice(j);
}

/**
 * The support table of the full matrix: one column per xend series (each named by its version label),
 * then the tree behind each label, honestly (release tag, branch point or release import, and commit).
 */
export function renderSeriesBlock(report: RunReport): string {
  const xends = [...new Set(report.support.map((s) => s.xend))];
  return [
    `Support of each libvirt release by the xend of every Xen series (one column each), from \`xend-compat run --matrix matrices/full.yaml\` (${report.results.length} cells, replayed from recordings of each series' real xend; ${new Set(report.support.map((s) => s.libvirt)).size} libvirt versions, the releases that answer alike for every series in one row: ${groupSupport(report.support).length} rows, as \`xend-compat support --group\` prints them). Same legend as above.`,
    "",
    renderSupportMarkdown(groupedAnswers(report.support)).trimEnd(),
    "",
    "| xend | the tree that plays it |",
    "| --- | --- |",
    ...xends.map((x) => `| ${x} | ${seriesLabel(x).replace(/\|/g, "\\|")}${seriesOf(x)?.note ? `: ${seriesOf(x)!.note!.replace(/\|/g, "\\|")}` : ""} |`),
  ].join("\n");
}

/** What the README's release table is made of: the answers of matrices/releases.yaml and the releases left out. */
export interface ReleasesRun {
  answers: SupportAnswer[];
  cells: number;
  unresolved: { libvirt: string; reason: string }[];
}

/** The "support by release" block: matrices/releases.yaml's releases grouped by identical answers. */
export function renderReleasesBlock(r: ReleasesRun): string {
  const groups = groupSupport(r.answers);
  const releases = new Set(r.answers.map((a) => a.libvirt)).size;
  const lines = [
    `Every libvirt release of \`matrices/releases.yaml\` (${releases} releases, ${r.cells} cells replayed), grouped by identical answers (for every xend version the same status with the same scenarios under each verdict; computed by \`xend-compat support --matrix matrices/releases.yaml --group\`): ${groups.length} groups.`,
    "",
    renderSupportMarkdown(groupedAnswers(r.answers)).trimEnd(),
  ];
  if (r.unresolved.length) {
    lines.push("", `Not answered yet (${r.unresolved.length} releases resolve to no profile): ${r.unresolved.map((u) => u.libvirt).join(", ")}.`);
  }
  return lines.join("\n");
}

/**
 * README text with the generated blocks refreshed from `report` (default matrix) and, when given, `full`
 * (full matrix) and `releases` (matrices/releases.yaml, grouped).
 */
export function refreshReadme(readme: string, report: RunReport, full?: RunReport, releases?: ReleasesRun): string {
  let out = replaceBlock(replaceBlock(readme, "support", renderSupportBlock(report)), "findings", renderFindingsBlock(report));
  if (full) out = replaceBlock(out, "support-series", renderSeriesBlock(full));
  return releases ? replaceBlock(out, "releases", renderReleasesBlock(releases)) : out;
}
