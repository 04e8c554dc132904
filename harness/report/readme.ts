/**
 * The README's generated parts: the support table and "what we found", both derived from a run of the
 * default matrix. Only the text between `<!-- generated:<name>:begin -->` and
 * `<!-- generated:<name>:end -->` is ever replaced. Refresh with
 * `npx tsx harness/report/readme-cli.ts` (or `node dist/harness/report/readme-cli.js`); `--check`
 * exits 1 when README.md is out of date.
 */
import { HarnessError } from "../errors.js";
import type { CellResult, Verdict } from "../run/index.js";
import { renderSupportMarkdown } from "./markdown.js";
import type { RunReport } from "./model.js";

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

/** `0.8.7: pv-localtime, pv-utc-start on 3.2, 3.4.3, 4.1.2` style, compact. */
export function compactCells(ids: string[]): string {
  // libvirt → scenario → xends
  const tree = new Map<string, Map<string, string[]>>();
  for (const id of ids) {
    const [x, l, s] = id.split("/");
    if (!tree.has(l)) tree.set(l, new Map());
    const m = tree.get(l)!;
    if (!m.has(s)) m.set(s, []);
    m.get(s)!.push(x);
  }
  const parts: string[] = [];
  for (const [l, m] of tree) {
    // group scenarios sharing the same xend list
    const byX = new Map<string, string[]>();
    for (const [s, xs] of m) {
      const k = xs.join(", ");
      if (!byX.has(k)) byX.set(k, []);
      byX.get(k)!.push(s);
    }
    const inner = [...byX].map(([xs, ss]) => `${ss.join(", ")} on xend ${xs}`).join("; ");
    parts.push(`libvirt ${l}: ${inner}`);
  }
  return parts.join(" · ");
}

export function renderSupportBlock(report: RunReport): string {
  return [
    `Support of each libvirt release (profile) by each xend version, from \`xend-compat run\` over the default matrix (${report.results.length} cells).`,
    "`full`: every scenario preserved; `partial`: something rejected (loudly); `unsafe`: something silently changed; `untested`: nothing ran.",
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

/** README text with both generated blocks refreshed from `report`. */
export function refreshReadme(readme: string, report: RunReport): string {
  return replaceBlock(replaceBlock(readme, "support", renderSupportBlock(report)), "findings", renderFindingsBlock(report));
}
