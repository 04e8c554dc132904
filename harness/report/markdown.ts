/** Markdown: the support table (libvirt × xend) and, per answer that is not `full`, the scenarios behind it. */
import type { SupportAnswer } from "../run/index.js";
import { summaryLine, type RunReport } from "./model.js";

function cellOf(s: SupportAnswer): string {
  const parts: string[] = [];
  if (s.counts.preserved) parts.push(`${s.counts.preserved} preserved`);
  if (s.counts.rejected) parts.push(`${s.counts.rejected} rejected`);
  if (s.counts.changed) parts.push(`${s.counts.changed} changed`);
  if (s.counts.error) parts.push(`${s.counts.error} error`);
  if (s.counts.skipped) parts.push(`${s.counts.skipped} skipped`);
  return `**${s.status}** (${parts.join(", ")})`;
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/</g, "&lt;");
}

/** Only the table (used for the README block too). */
export function renderSupportMarkdown(support: SupportAnswer[]): string {
  const libvirts = [...new Set(support.map((s) => s.libvirt))];
  const xends = [...new Set(support.map((s) => s.xend))];
  const by = new Map(support.map((s) => [`${s.libvirt}/${s.xend}`, s]));
  const lines = [`| libvirt \\ xend | ${xends.join(" | ")} |`, `| --- | ${xends.map(() => "---").join(" | ")} |`];
  for (const l of libvirts) {
    const profile = support.find((s) => s.libvirt === l)?.profileId;
    // a group of releases (support --group) is labelled "a … b (N releases)": the profile joins those parentheses
    const group = / \((\d+ releases)\)$/.exec(l);
    const name = group ? `${mdEscape(l.slice(0, group.index))} (${group[1]}${profile ? `; ${mdEscape(profile)}` : ""})` : `${mdEscape(l)}${profile && profile !== l ? ` (${mdEscape(profile)})` : ""}`;
    lines.push(`| ${name} | ${xends.map((x) => (by.get(`${l}/${x}`) ? cellOf(by.get(`${l}/${x}`)!) : "untested")).join(" | ")} |`);
  }
  return lines.join("\n") + "\n";
}

export function renderMarkdown(report: RunReport): string {
  const out: string[] = [];
  out.push(`# xend-compat: ${report.matrix.name}`);
  out.push("");
  out.push("`full`: every scenario preserved; `partial`: nothing silently changed, but something was rejected (loudly) or did not run (error, skipped); `unsafe`: something silently changed; `untested`: nothing ran.");
  out.push("");
  out.push(renderSupportMarkdown(report.support).trimEnd());
  const notFull = report.support.filter((s) => s.status !== "full");
  if (notFull.length) {
    out.push("");
    out.push("## Why not full");
    for (const s of notFull) {
      out.push("");
      out.push(`### libvirt ${mdEscape(s.libvirt)} on xend ${s.xend}: ${s.status}`);
      out.push("");
      for (const w of s.why) out.push(`- ${mdEscape(w)}`);
    }
  }
  out.push("");
  out.push(`_${summaryLine(report.results)}_`);
  return out.join("\n") + "\n";
}
