/**
 * The HTML reporter without a browser (runs everywhere; the browser test checks what a person sees):
 * escaping of everything that comes from results, the CSP hashes matching the inline CSS and JS
 * (else the page's own script would be blocked), the stories being the explain text, and
 * `run --reporter html --out F` through the CLI.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { renderExplain } from "../harness/report/index.js";
import { main } from "../harness/cli.js";
import { DEFAULT_MATRIX, expandCells, fromRoot, loadMatrix, projectRoot } from "../harness/matrix/index.js";
import { makeReport, render } from "../harness/report/index.js";
import { esc as htmlEscape, renderHtml } from "../harness/report/html.js";
import { runCells } from "../harness/run/index.js";
import { FakeXend, HOSTILE } from "./report-html.fake-xend.js";

function unescapeHtml(s: string): string {
  return s.replace(/<\/?strong>/g, "").replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[e]!);
}

async function fakeReport(scenarios: string[]) {
  const matrix = loadMatrix(fromRoot(DEFAULT_MATRIX));
  const cells = expandCells(matrix, { xend: ["3.2", "4.1.2"], libvirt: ["0.8.7", "1.3.1"] }).filter((c) => scenarios.includes(c.scenario.id));
  const results = await runCells(cells, { backendFor: async (x) => new FakeXend(x) });
  return { matrix, report: makeReport({ name: matrix.name, file: DEFAULT_MATRIX }, "sandbox", results) };
}

describe("HTML reporter", () => {
  it("escapes &, <, >, and both quotes", () => {
    expect(htmlEscape(`<a href="x" title='y'>&amp;</a>`)).toBe("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
  });

  it("keeps xend's HTML-looking answers as text: no tag from results reaches the markup", async () => {
    const { report } = await fakeReport(["hvm-utc", "pv-args-special"]);
    expect(report.results.some((r) => r.reason.includes(HOSTILE))).toBe(true);
    const html = renderHtml(report);
    expect(html).not.toContain("<img");
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(html).toContain(htmlEscape(HOSTILE));
    // Every tag in the page is one the reporter writes itself.
    const markup = html.replace(/<script>[\s\S]*?<\/script>/, "<script></script>");
    const tags = new Set([...markup.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1].toLowerCase()));
    const own = ["html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "code", "main", "section", "ul", "li", "span", "table", "caption", "thead", "tbody", "tr", "th", "td", "button", "small", "div", "article", "pre", "strong", "script"];
    expect([...tags].filter((t) => !own.includes(t))).toEqual([]);
  });

  it("pins its inline CSS and JS by hash in its Content-Security-Policy, and loads nothing", async () => {
    const { report } = await fakeReport(["pv-utc"]);
    const html = renderHtml(report);
    const csp = unescapeHtml(/http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]);
    const hash = (t: string) => `'sha256-${createHash("sha256").update(t, "utf8").digest("base64")}'`;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
    expect(csp).toContain(`default-src 'none'`);
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(csp).toContain(`connect-src 'none'`);
    expect(html).not.toMatch(/\bsrc=|\bhref=|url\(|@import/);
  });

  it("tells each cell's story with the explain command's own text, and shows the status words", async () => {
    const { matrix, report } = await fakeReport(["pv-utc", "hvm-utc", "pv-args-special"]);
    const html = renderHtml(report);
    const stories = [...html.matchAll(/<pre>([\s\S]*?)<\/pre>/g)].map((m) => unescapeHtml(m[1]));
    const order = [...html.matchAll(/<tr data-cell="([^"]+)">/g)].map((m) => unescapeHtml(m[1]));
    expect(stories).toHaveLength(report.results.length);
    expect([...order].sort()).toEqual(report.results.map((r) => r.id).sort());
    order.forEach((id, i) => {
      const r = report.results.find((x) => x.id === id)!;
      const s = matrix.scenarios.find((x) => x.id === r.scenario)!;
      const expected = renderExplain(r, { description: s.description, domainFile: s.domainFile, steps: s.steps.map((st) => (st.kind === "guest-set-rtc" ? `guest-set-rtc ${st.delta}` : st.kind)) });
      expect(stories[i]).toBe(expected);
      expect(stories[i]).toContain(`cell ${id}\n`);
    });
    for (const a of report.support) expect(html).toContain(`data-libvirt="${a.libvirt}" data-xend="${a.xend}" data-status="${a.status}"`);
  });

  it("says when the scenario details cannot be had, and still tells the stories", async () => {
    const { report } = await fakeReport(["pv-utc"]);
    const html = renderHtml({ ...report, matrix: { name: "gone", file: "no/such/matrix.yaml" } });
    expect(html).toContain("Scenario descriptions and steps are not shown: the matrix file no/such/matrix.yaml is not at hand");
    expect(html).toContain("steps: define, read");
  });

  it("is what run --reporter html --out F writes (atomically: no temporary file left)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "xc-html-"));
    const out: string[] = [];
    const err: string[] = [];
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.CI;
    const code = await main(["run", "--xend", "4.1.2", "--libvirt", "0.9.11", "--reporter", "html", "--out", path.join(dir, "page.html")], { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, env, cwd: projectRoot() });
    expect(code, err.join("\n")).toBeLessThan(2);
    const html = readFileSync(path.join(dir, "page.html"), "utf8");
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('data-libvirt="0.9.11" data-xend="4.1.2"');
    expect(out.join("\n")).toContain("report written to");
    expect(await render("html", makeReport({ name: "x", file: "x" }, "recorded", []))).toContain("This report holds no cells.");
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(dir)).toEqual(["page.html"]);
  });
});
