/**
 * JUnit XML: one testsuite per (xend, libvirt), one testcase per scenario, each with its `time` in
 * seconds (suites and the whole run: the sum of their cells). Class names are `xend-<V>.libvirt-<V>`
 * with the dots inside versions written as `_` (`xend-3_4_3.libvirt-0_9_11`), so that tools which
 * split a class name at its dots (Jenkins, GitLab) show the xend version as the package and the libvirt
 * version as the class, instead of cutting a version in two. fail → <failure> (or
 * <error> for an `error` verdict), xpass → <failure type="xpass">, skip → <skipped>, xfail → passes with
 * the expectation in its properties. Every expectation's reason, fixedBy and report are kept as
 * properties so CI pages show why a cell is known to fail.
 */
import type { CellResult } from "../run/index.js";
import { countRun, summaryLine, type RunReport } from "./model.js";

export function xmlEscape(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`);
}

function prop(name: string, value: string | undefined | null): string {
  return value === undefined || value === null ? "" : `        <property name="${xmlEscape(name)}" value="${xmlEscape(value)}"/>\n`;
}

function testcase(r: CellResult): string {
  const props =
    prop("cell", r.id) +
    prop("profile", r.profileId) +
    prop("backend", r.backend ?? "none") +
    prop("verdict", r.verdict) +
    prop("outcome", r.outcome) +
    prop("expectation", r.expectation ? `${r.expectation.verdict}: ${r.expectation.reason}` : undefined) +
    prop("fixedBy", r.expectation?.fixedBy) +
    prop("report", r.expectation?.report) +
    prop("golden", r.golden ? `${r.golden.status} ${r.golden.file}` : undefined);
  let body = `      <properties>\n${props}      </properties>\n`;
  const detail = [r.reason, r.outcomeReason, r.golden?.diff ? `golden diff:\n${r.golden.diff}` : ""].filter(Boolean).join("\n");
  if (r.outcome === "fail" && r.verdict === "error") body += `      <error type="error" message="${xmlEscape(r.reason)}">${xmlEscape(detail)}</error>\n`;
  else if (r.outcome === "fail") body += `      <failure type="${r.verdict}" message="${xmlEscape(r.outcomeReason)}">${xmlEscape(detail)}</failure>\n`;
  else if (r.outcome === "xpass") body += `      <failure type="xpass" message="${xmlEscape(r.outcomeReason)}">${xmlEscape(detail)}</failure>\n`;
  else if (r.outcome === "skip") body += `      <skipped message="${xmlEscape(r.reason)}"/>\n`;
  body += `      <system-out>${xmlEscape(`${r.verdict}: ${r.reason}\n${r.outcome}: ${r.outcomeReason}`)}</system-out>\n`;
  return `    <testcase classname="${xmlEscape(className(r))}" name="${xmlEscape(r.scenario)}" time="${seconds([r])}">\n${body}    </testcase>\n`;
}

/** `xend-3_4_3.libvirt-0_9_11`: one dot, between the xend package and the libvirt class. */
export function className(r: Pick<CellResult, "xend" | "libvirt">): string {
  const part = (v: string) => v.replace(/\./g, "_");
  return `xend-${part(r.xend)}.libvirt-${part(r.libvirt)}`;
}

/** The cells' summed durations in seconds, as JUnit writes time (three decimals). */
function seconds(rs: CellResult[]): string {
  return (rs.reduce((t, r) => t + (r.durationMs ?? 0), 0) / 1000).toFixed(3);
}

export function renderJunit(report: RunReport): string {
  const groups = new Map<string, CellResult[]>();
  for (const r of report.results) {
    const k = `xend ${r.xend} / libvirt ${r.libvirt}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const total = countRun(report.results);
  const failures = (rs: CellResult[]) => rs.filter((r) => (r.outcome === "fail" && r.verdict !== "error") || r.outcome === "xpass").length;
  const errors = (rs: CellResult[]) => rs.filter((r) => r.outcome === "fail" && r.verdict === "error").length;
  const skipped = (rs: CellResult[]) => rs.filter((r) => r.outcome === "skip").length;
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n`;
  out += `<testsuites name="xend-compat ${xmlEscape(report.matrix.name)}" tests="${total.cells}" failures="${failures(report.results)}" errors="${errors(report.results)}" skipped="${skipped(report.results)}" time="${seconds(report.results)}">\n`;
  for (const [name, rs] of groups) {
    out += `  <testsuite name="${xmlEscape(name)}" tests="${rs.length}" failures="${failures(rs)}" errors="${errors(rs)}" skipped="${skipped(rs)}" time="${seconds(rs)}">\n`;
    for (const r of rs) out += testcase(r);
    out += `  </testsuite>\n`;
  }
  out += `  <!-- ${xmlEscape(summaryLine(report.results)).replace(/--/g, "- -")} -->\n`;
  out += `</testsuites>\n`;
  return out;
}
