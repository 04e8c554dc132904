/** Reporters: terminal table, JSON, JUnit XML, Markdown, HTML (loaded on demand); the README's generated blocks. */
import { HarnessError } from "../errors.js";
import { safeDeep } from "../terminal.js";
import { redactDeep } from "../xend/index.js";
import { renderJson } from "./json.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import type { RunReport } from "./model.js";
import { renderTable, type TableOptions } from "./table.js";

export { makeReport, countRun, summaryLine } from "./model.js";
export type { RunReport, RunCounts } from "./model.js";
export { renderTable, wrap, cellLines } from "./table.js";
export type { TableOptions } from "./table.js";
export { renderJson } from "./json.js";
// The HTML reporter (./html.ts) is loaded only when asked for: a table or JSON run never reads it.
export type { HtmlOptions, ScenarioInfo } from "./html.js";
export { renderJunit, xmlEscape } from "./junit.js";
export { renderMarkdown, renderSupportMarkdown } from "./markdown.js";
export { renderSupportBlock, renderFindingsBlock, findings, replaceBlock, refreshReadme } from "./readme.js";
export type { Finding } from "./readme.js";

export type ReporterName = "table" | "json" | "junit" | "markdown" | "html";
export const REPORTER_NAMES: readonly ReporterName[] = ["table", "json", "junit", "markdown", "html"];

export type Renderer = (report: RunReport, opts: TableOptions) => string | Promise<string>;

/** The reporter registry; another module may add `html` with registerReporter. */
const REPORTERS = new Map<ReporterName, Renderer>([
  ["table", (r, o) => renderTable(r, o)],
  ["json", (r) => renderJson(r)],
  ["junit", (r) => renderJunit(r)],
  ["markdown", (r) => renderMarkdown(r)],
  ["html", async (r) => (await import("./html.js")).renderHtml(r)],
]);

/** What the table gets for an observation: nothing (it shows verdicts, reasons and golden diffs only). */
const NOT_SHOWN = Object.freeze({}) as unknown as RunReport["results"][number]["observation"];

export function registerReporter(name: ReporterName, render: Renderer): void {
  REPORTERS.set(name, render);
}

export async function render(name: string, report: RunReport, opts: TableOptions = {}): Promise<string> {
  const r = REPORTERS.get(name as ReporterName);
  if (!r) {
    if ((REPORTER_NAMES as readonly string[]).includes(name)) throw new HarnessError("input.usage", `--reporter ${name}: not yet available in this version`);
    throw new HarnessError("input.usage", `--reporter '${name}': expected one of ${REPORTER_NAMES.join(", ")}`);
  }
  // Secrets (vncpasswd, passwd, password) never reach a report; the table, made for terminals, shows
  // no raw control character (a matrix's or a xend's text: harness/terminal.ts).
  // The table shows no observation (every exchange of every cell): it is left out before the walks.
  const shown = name === "table" ? { ...report, results: report.results.map((x) => ({ ...x, observation: NOT_SHOWN })) } : report;
  const safe = redactDeep(shown);
  return r(name === "table" ? safeDeep(safe) : safe, opts);
}


export { renderExplain } from "./story.js";
