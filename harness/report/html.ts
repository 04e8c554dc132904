/**
 * The HTML support matrix (`--reporter html`): ONE self-contained page, no network and no external
 * assets (inline CSS and JS only, pinned by a Content-Security-Policy with their hashes, so the page
 * cannot load anything even if some text slipped through).
 *
 * - a libvirt × xend grid, each grid cell coloured by its support answer AND showing the status word
 *   and a glyph (readable without colour), with its verdict counts;
 * - a grid cell opens (click, Enter or Space: it is a button) the list of its scenarios with verdict,
 *   outcome and reason;
 * - a scenario opens its story: exactly the text `xend-compat explain <cell>` prints (the explain
 *   command's own renderExplain), i.e. XML in, SXPR sent, exchanges, what xend returned, XML out,
 *   the clock the guest got, checks, verdict and why, expectation, golden, outcome.
 *
 * Everything that comes from results (domain XML, SXPR, xend bodies, reasons, ids) goes through esc().
 * The explain story needs the scenario's description, domain file and steps, which a report does not
 * carry: they come from `opts.scenarios`, else from the report's matrix file when it can be read, else
 * from the cell itself (steps from the exchanges' labels), and the page says so.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { renderExplain } from "./story.js";
import { VERSION } from "../version.js";
import { fromRoot, loadMatrix, type Matrix } from "../matrix/index.js";
import type { CellResult, SupportAnswer, SupportStatus } from "../run/index.js";
import { VERDICTS } from "../matrix/index.js";
import { summaryLine, type RunReport } from "./model.js";

/** What renderExplain needs of a scenario besides the cell result. */
export interface ScenarioInfo {
  description: string;
  domainFile: string;
  steps: string[];
}

export interface HtmlOptions {
  /** Scenario details by scenario id; default: read from the report's matrix file. */
  scenarios?: Map<string, ScenarioInfo>;
  /** A note shown prominently at the top (e.g. "demo data"). */
  banner?: string;
  /** Directory the report's matrix path is relative to (default process.cwd()). */
  cwd?: string;
}

export const STATUS_TEXT: Record<SupportStatus, { glyph: string; meaning: string }> = {
  full: { glyph: "✓", meaning: "every scenario kept its configuration (preserved)" },
  partial: { glyph: "◐", meaning: "nothing silently changed, but libvirt or xend refused some scenario (rejected), or some scenario did not run (error, skipped)" },
  unsafe: { glyph: "✗", meaning: "some scenario came back silently different (changed)" },
  untested: { glyph: "?", meaning: "no scenario gave a verdict on the round trip (all error or skipped)" },
};

/** Escape text for HTML element content and (double- or single-quoted) attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function stepText(s: Matrix["scenarios"][number]["steps"][number]): string {
  return s.kind === "guest-set-rtc" ? `guest-set-rtc ${s.delta}` : s.kind;
}

/** Scenario details from the report's matrix file; null (with why) when it cannot be read. */
export function scenariosFromMatrix(report: RunReport, cwd = process.cwd()): { scenarios: Map<string, ScenarioInfo> } | { why: string } {
  const f = report.matrix.file;
  const candidates = [path.resolve(cwd, f), fromRoot(f)];
  const file = candidates.find((c) => existsSync(c));
  if (!file) return { why: `the matrix file ${f} is not at hand` };
  try {
    const m = loadMatrix(file, { displayName: f });
    if (m.name !== report.matrix.name) return { why: `${f} now holds matrix '${m.name}', not '${report.matrix.name}'` };
    return { scenarios: new Map(m.scenarios.map((s) => [s.id, { description: s.description, domainFile: s.domainFile, steps: s.steps.map(stepText) }])) };
  } catch (e) {
    return { why: `the matrix file ${f} cannot be read: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Scenario details from the cell alone: steps from the exchanges' labels (`2-start` → start). */
function scenarioFromCell(r: CellResult): ScenarioInfo {
  const steps: string[] = [];
  for (const e of r.observation.exchanges ?? []) {
    const m = /^(\d+)-([a-z-]+)$/.exec(e.step);
    if (!m) continue;
    const label = e.kind === "control" && e.control.kind === "guest-set-rtc" ? `guest-set-rtc ${e.control.delta}` : m[2];
    if (steps[Number(m[1]) - 1] === undefined) steps[Number(m[1]) - 1] = label;
  }
  return { description: "(scenario details not in this report)", domainFile: "domain file not known", steps: steps.filter((s) => s !== undefined) };
}

/** The explain story of one cell, as text. */
export function storyText(r: CellResult, s: ScenarioInfo): string {
  try {
    return renderExplain(r, s);
  } catch (e) {
    // A report from elsewhere may name a libvirt version this build has no profile for.
    return [
      `cell ${r.id}`,
      `  (the full story cannot be told here: ${e instanceof Error ? e.message : String(e)})`,
      "",
      `verdict: ${r.verdict}: ${r.reason}`,
      `outcome: ${r.outcome}: ${r.outcomeReason}`,
    ].join("\n");
  }
}

const SECTION = /^(cell |\d+\. |verdict: |expectation |golden |outcome: )/;

function storyHtml(text: string): string {
  return text
    .split("\n")
    .map((l) => (SECTION.test(l) ? `<strong>${esc(l)}</strong>` : esc(l)))
    .join("\n");
}

function counts(a: SupportAnswer): string {
  return VERDICTS.filter((v) => a.counts[v] > 0)
    .map((v) => `${a.counts[v]} ${v}`)
    .join(" · ");
}

function notAsExpected(rs: CellResult[]): number {
  return rs.filter((r) => r.outcome === "fail" || r.outcome === "xpass").length;
}

const CSS = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--full:#d2f4da;--full-b:#1a7f37;--partial:#fff1c2;--partial-b:#9a6700;--unsafe:#ffdcd7;--unsafe-b:#cf222e;--untested:#e6e9ed;--untested-b:#59636e;--focus:#0969da}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:var(--bg);margin:0;padding:24px 32px 48px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:24px 0 8px}h3{font-size:15px;margin:0 0 6px}
code,pre{font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
.meta,.summary{color:var(--muted);margin:2px 0}
.banner{border:2px dashed var(--partial-b);background:var(--partial);padding:8px 12px;margin:12px 0;font-weight:600}
.legend{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;align-items:center}
.legend li{display:contents}
.badge{display:inline-block;min-width:6.5em;padding:1px 8px;border-radius:4px;border:1px solid;font-weight:600;text-align:left}
.st-full{background:var(--full);border-color:var(--full-b);color:#0f5323}
.st-partial{background:var(--partial);border-color:var(--partial-b);color:#6b4700}
.st-unsafe{background:var(--unsafe);border-color:var(--unsafe-b);color:#8c1219}
.st-untested{background:var(--untested);border-color:var(--untested-b);color:#3a4047}
table.grid{border-collapse:separate;border-spacing:4px;margin-top:12px}
.grid th{font-weight:600;text-align:left;padding:4px 8px;white-space:nowrap}
.grid th small{display:block;font-weight:400;color:var(--muted)}
.grid td{padding:0;min-width:11em}
.grid td.absent{color:var(--muted);text-align:center;border:1px dashed var(--line);border-radius:6px}
.cellbtn{width:100%;text-align:left;font:inherit;color:inherit;background:inherit;border:2px solid transparent;border-radius:6px;padding:6px 10px;cursor:pointer;display:block}
.grid td[class^=st-]{border:1px solid;border-radius:6px}
.cellbtn:hover{border-color:currentColor}
.cellbtn:focus-visible,.scenbtn:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.cellbtn[aria-expanded=true]{border-color:var(--fg);box-shadow:0 0 0 2px var(--fg) inset}
.status{display:block;font-weight:700;text-transform:uppercase;letter-spacing:.03em}
.counts{display:block;font-size:12.5px}
.attn{display:block;font-size:12.5px;font-weight:700}
.panel{border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin-top:16px}
.panel h2{margin-top:0}
.why{margin:4px 0 10px;padding-left:20px;color:var(--muted)}
table.scen{border-collapse:collapse;width:100%}
.scen th,.scen td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
.scen th{font-size:13px;color:var(--muted)}
.scenbtn{font:inherit;font-weight:600;white-space:nowrap;color:var(--focus);background:none;border:none;padding:0;cursor:pointer;text-decoration:underline;text-align:left}
.scenbtn[aria-expanded=true]{color:var(--fg)}
.v,.o{display:inline-block;padding:0 6px;border-radius:4px;border:1px solid;font-size:13px;font-weight:600}
.v-preserved,.o-pass{background:var(--full);border-color:var(--full-b)}
.v-rejected,.o-xfail{background:var(--partial);border-color:var(--partial-b)}
.v-changed,.o-fail,.o-xpass{background:var(--unsafe);border-color:var(--unsafe-b)}
.v-error{background:#f3e8ff;border-color:#8250df}
.v-skipped,.o-skip{background:var(--untested);border-color:var(--untested-b)}
.story{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:10px 12px;margin:4px 0 8px}
.story pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
.story strong{color:#0550ae}
.hint{color:var(--muted);font-size:13px}
`;

const JS = `
(function(){
  function show(btn, open){
    var t=document.getElementById(btn.getAttribute('aria-controls'));
    if(!t)return;
    btn.setAttribute('aria-expanded', open?'true':'false');
    if(open)t.removeAttribute('hidden');else t.setAttribute('hidden','');
  }
  document.addEventListener('click', function(ev){
    var b=ev.target.closest && ev.target.closest('button[data-kind]');
    if(!b)return;
    var open=b.getAttribute('aria-expanded')!=='true';
    if(b.getAttribute('data-kind')==='cell'){
      var all=document.querySelectorAll('button[data-kind=cell][aria-expanded=true]');
      for(var i=0;i<all.length;i++)show(all[i],false);
      show(b,open);
      if(open){var p=document.getElementById(b.getAttribute('aria-controls'));if(p&&p.scrollIntoView)p.scrollIntoView({block:'nearest'});}
    }else{
      show(b,open);
    }
  });
})();
`;

function cspHash(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

export function renderHtml(report: RunReport, opts: HtmlOptions = {}): string {
  let scenarios = opts.scenarios;
  let scenarioNote = "";
  if (!scenarios) {
    const got = scenariosFromMatrix(report, opts.cwd);
    if ("scenarios" in got) scenarios = got.scenarios;
    else scenarioNote = `Scenario descriptions and steps are not shown: ${got.why}; the stories are built from the cell results alone.`;
  }
  const infoOf = (r: CellResult): ScenarioInfo => scenarios?.get(r.scenario) ?? scenarioFromCell(r);

  const libvirts: string[] = [];
  const xends: string[] = [];
  for (const r of report.results) {
    if (!libvirts.includes(r.libvirt)) libvirts.push(r.libvirt);
    if (!xends.includes(r.xend)) xends.push(r.xend);
  }
  const answer = new Map(report.support.map((a) => [`${a.libvirt}\u0000${a.xend}`, a]));
  const cellsOf = (l: string, x: string) => report.results.filter((r) => r.libvirt === l && r.xend === x);

  const head = `<tr><th scope="col">libvirt \\ xend</th>${xends.map((x) => `<th scope="col">xend ${esc(x)}</th>`).join("")}</tr>`;
  const rows: string[] = [];
  const panels: string[] = [];
  let storyN = 0;
  libvirts.forEach((l, li) => {
    const profile = report.results.find((r) => r.libvirt === l)?.profileId ?? "";
    const tds = xends.map((x, xi) => {
      const a = answer.get(`${l}\u0000${x}`);
      if (!a) return `<td class="absent" data-libvirt="${esc(l)}" data-xend="${esc(x)}" data-status="none">not in the matrix</td>`;
      const rs = cellsOf(l, x);
      const bad = notAsExpected(rs);
      const pid = `panel-${li}-${xi}`;
      const label = `libvirt ${l} on xend ${x}: ${a.status}`;
      const td =
        `<td class="st-${a.status}" data-libvirt="${esc(l)}" data-xend="${esc(x)}" data-status="${a.status}">` +
        `<button type="button" class="cellbtn" data-kind="cell" aria-expanded="false" aria-controls="${pid}" aria-label="${esc(`${label}; ${counts(a)}${bad ? `; ${bad} not as expected` : ""}; show its ${rs.length} scenarios`)}">` +
        `<span class="status">${STATUS_TEXT[a.status].glyph} ${a.status}</span><span class="counts">${esc(counts(a))}</span>` +
        (bad ? `<span class="attn">⚠ ${bad} not as expected</span>` : "") +
        `</button></td>`;
      const scenRows = rs
        .map((r) => {
          const sid = `story-${storyN++}`;
          return (
            `<tr data-cell="${esc(r.id)}"><td><button type="button" class="scenbtn" data-kind="scenario" aria-expanded="false" aria-controls="${sid}">${esc(r.scenario)}</button></td>` +
            `<td><span class="v v-${esc(r.verdict)}">${esc(r.verdict)}</span></td><td><span class="o o-${esc(r.outcome)}">${esc(r.outcome)}</span></td>` +
            `<td>${esc(r.reason)}<div class="hint">${esc(r.outcomeReason)}</div></td></tr>` +
            `<tr class="storyrow" id="${sid}" hidden><td colspan="4"><article class="story" aria-label="${esc(`story of ${r.id}`)}"><h3>xend-compat explain ${esc(r.id)}</h3><pre>${storyHtml(storyText(r, infoOf(r)))}</pre></article></td></tr>`
          );
        })
        .join("\n");
      panels.push(
        `<section class="panel" id="${pid}" hidden data-libvirt="${esc(l)}" data-xend="${esc(x)}" aria-label="${esc(`libvirt ${l} on xend ${x}`)}">` +
          `<h2>libvirt ${esc(l)} <small>(profile ${esc(a.profileId)})</small> on xend ${esc(x)}: <span class="badge st-${a.status}">${STATUS_TEXT[a.status].glyph} ${a.status}</span></h2>` +
          (a.why.length ? `<ul class="why">${a.why.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : `<p class="why">Every scenario was preserved.</p>`) +
          `<p class="hint">Open a scenario for its whole story (what <code>xend-compat explain</code> prints).</p>` +
          `<table class="scen"><thead><tr><th scope="col">scenario</th><th scope="col">verdict</th><th scope="col">outcome</th><th scope="col">why</th></tr></thead><tbody>\n${scenRows}\n</tbody></table></section>`,
      );
      return td;
    });
    rows.push(`<tr><th scope="row">libvirt ${esc(l)}<small>profile ${esc(profile)}</small></th>${tds.join("")}</tr>`);
  });

  const legend = (Object.keys(STATUS_TEXT) as SupportStatus[])
    .map((s) => `<li><span class="badge st-${s}">${STATUS_TEXT[s].glyph} ${s}</span><span>${esc(STATUS_TEXT[s].meaning)}</span></li>`)
    .join("");
  const csp = `default-src 'none'; style-src ${cspHash(CSS)}; script-src ${cspHash(JS)}; img-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'`;
  const title = `xend-compat support matrix: ${report.matrix.name}`;
  const empty = report.results.length === 0 ? `<p class="banner">This report holds no cells.</p>` : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Support matrix: libvirt × xend</h1>
<p class="meta">matrix <code>${esc(report.matrix.name)}</code> (${esc(report.matrix.file)}), backend <code>${esc(report.backend)}</code>, xend-compat ${esc(VERSION)}</p>
<p class="summary" id="summary">${esc(summaryLine(report.results))}</p>
${opts.banner ? `<p class="banner" role="note" id="banner">${esc(opts.banner)}</p>` : ""}
${scenarioNote ? `<p class="banner" role="note">${esc(scenarioNote)}</p>` : ""}
${empty}
</header>
<main>
<section aria-labelledby="legend-h"><h2 id="legend-h">Legend</h2><ul class="legend">${legend}</ul>
<p class="hint">Each grid cell is one libvirt version with one xend version; open it for its scenarios. ⚠ counts cells whose outcome is not what the matrix expects.</p></section>
<table class="grid" id="grid"><caption class="hint">Support of each xend version by each libvirt version (${report.support.length} answers over ${report.results.length} cells)</caption>
<thead>${head}</thead>
<tbody>
${rows.join("\n")}
</tbody></table>
${panels.join("\n")}
</main>
<script>${JS}</script>
</body>
</html>
`;
}
