/**
 * The terminal report (default): per xend version a grid scenario × libvirt, the cells that are not
 * as expected with their reasons, the support table, and the summary line. Lines fit the given width
 * (80 by default: columns are split into groups that fit); colour only when asked (the CLI asks on a
 * TTY without NO_COLOR).
 */
import pc from "picocolors";
import type { CellResult, Outcome, SupportStatus, Verdict } from "../run/index.js";
import { summaryLine, type RunReport } from "./model.js";

export interface TableOptions {
  width?: number;
  color?: boolean;
}

const VERDICT_SHORT: Record<Verdict, string> = { preserved: "ok", rejected: "rej", changed: "CHG", error: "ERR", skipped: "skip" };
const OUTCOME_MARK: Record<Outcome, string> = { pass: "", xfail: "*", fail: "!", xpass: "+", skip: "" };

type Paint = (s: string) => string;
interface Palette {
  verdict: Record<Verdict, Paint>;
  status: Record<SupportStatus, Paint>;
  bold: Paint;
  dim: Paint;
  bad: Paint;
}

function palette(color: boolean): Palette {
  const c = pc.createColors(color);
  return {
    verdict: { preserved: c.green, rejected: c.yellow, changed: c.red, error: c.magenta, skipped: c.dim },
    status: { full: c.green, partial: c.yellow, unsafe: c.red, untested: c.dim },
    bold: c.bold,
    dim: c.dim,
    bad: c.red,
  };
}

function fit(s: string, w: number): string {
  if (s.length <= w) return s.padEnd(w);
  return s.slice(0, Math.max(0, w - 1)) + "…";
}

/** Word-wrap `text` to `width`, continuation lines indented by `indent`. */
export function wrap(text: string, width: number, indent: string): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let cur = "";
  for (const w of words) {
    const room = width - (lines.length ? indent.length : 0);
    if (cur && cur.length + 1 + w.length > room) {
      lines.push(cur);
      cur = "";
    }
    let word = w;
    while (word.length > width - indent.length) {
      if (cur) {
        lines.push(cur);
        cur = "";
      }
      lines.push(word.slice(0, width - indent.length));
      word = word.slice(width - indent.length);
    }
    cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(cur);
  return lines.map((l, i) => (i ? indent + l : l));
}

function grid(title: string, rows: string[], cols: string[], cellText: (row: string, col: string) => { text: string; paint: Paint } | null, width: number, p: Palette, colW: number): string[] {
  const rowW = Math.min(Math.max(...rows.map((r) => r.length), title.length) + 2, Math.max(20, width - colW * 2));
  const perGroup = Math.max(1, Math.floor((width - rowW) / colW));
  const out: string[] = [];
  for (let g = 0; g < cols.length; g += perGroup) {
    const group = cols.slice(g, g + perGroup);
    out.push(p.bold(fit(title, rowW) + group.map((c) => fit(c, colW - 1) + " ").join("").trimEnd()));
    for (const r of rows) {
      let line = fit(r, rowW);
      group.forEach((c, i) => {
        const cell = cellText(r, c);
        const t = cell ? cell.text : "·";
        const padded = i === group.length - 1 ? t : t.padEnd(colW);
        line += cell ? cell.paint(padded) : p.dim(padded);
      });
      out.push(line.trimEnd());
    }
  }
  return out;
}

export function renderTable(report: RunReport, opts: TableOptions = {}): string {
  const width = Math.max(60, opts.width ?? 80);
  const p = palette(Boolean(opts.color));
  const rs = report.results;
  const out: string[] = [];
  // Which HTTP client talked to xend, said only when a tree's own client did (--wire native/auto).
  const native = rs.filter((r) => r.wire === "native").length;
  const wire = native ? `, wire ${native === rs.length ? "native" : `native for ${native} of ${rs.length} cells, ours for the rest`}` : "";
  out.push(p.bold(fit(`xend-compat run: matrix ${report.matrix.name}, backend ${report.backend}${wire}`, width).trimEnd()));
  const xends = unique(rs.map((r) => r.xend));
  const libvirts = unique(rs.map((r) => r.libvirt));
  const scenarios = unique(rs.map((r) => r.scenario));
  const byId = new Map(rs.map((r) => [`${r.xend}/${r.libvirt}/${r.scenario}`, r]));
  for (const x of xends) {
    out.push("");
    out.push(
      ...grid(
        `xend ${x}`,
        scenarios,
        libvirts,
        (s, l) => {
          const r = byId.get(`${x}/${l}/${s}`);
          if (!r) return null;
          return { text: VERDICT_SHORT[r.verdict] + OUTCOME_MARK[r.outcome], paint: p.verdict[r.verdict] };
        },
        width,
        p,
        8,
      ),
    );
  }
  const cut = libvirts.filter((l) => l.length > 7);
  if (cut.length) {
    out.push("");
    out.push(...wrap(`columns: ${cut.map((l) => `${fit(l, 7).trimEnd()} = ${l}`).join(", ")}`, width, "  ").map(p.dim));
  }
  out.push("");
  out.push(...wrap("ok preserved, rej rejected, CHG changed, ERR error, skip skipped; * known problem (xfail), ! not as expected (fail), + known problem gone (xpass)", width, "  ").map(p.dim));

  const bad = rs.filter((r) => r.outcome === "fail" || r.outcome === "xpass");
  if (bad.length) {
    out.push("");
    out.push(p.bold(`Not as expected (${bad.length}):`));
    for (const r of bad) out.push(...cellLines(r, width, p));
  }

  // Skips say why, grouped by reason (a backend that cannot run skips many cells for one reason).
  const skipped = rs.filter((r) => r.verdict === "skipped");
  if (skipped.length) {
    const byReason = new Map<string, string[]>();
    for (const r of skipped) byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), r.id]);
    out.push("");
    out.push(p.bold(`Skipped (${skipped.length}):`));
    for (const [reason, ids] of byReason) {
      const which = ids.length > 4 ? `${ids.slice(0, 3).join(", ")} and ${ids.length - 3} more` : ids.join(", ");
      out.push(...wrap(`${ids.length} cell(s): ${reason} (${which})`, width - 2, "    ").map((l) => `  ${l}`));
    }
  }

  if (report.support.length) {
    out.push("");
    const sup = new Map(report.support.map((s) => [`${s.libvirt}/${s.xend}`, s]));
    out.push(
      ...grid(
        "support",
        unique(report.support.map((s) => s.libvirt)),
        unique(report.support.map((s) => s.xend)),
        (l, x) => {
          const s = sup.get(`${l}/${x}`);
          return s ? { text: s.status, paint: p.status[s.status] } : null;
        },
        width,
        p,
        10,
      ),
    );
  }
  if (report.obsoleteGoldens.length) {
    out.push("");
    out.push(p.bold(`Obsolete goldens (${report.obsoleteGoldens.length}, no cell of the matrix produces them):`));
    for (const f of report.obsoleteGoldens) out.push(fit(`  ${f}`, width).trimEnd());
  }
  out.push("");
  out.push(...wrap(summaryLine(rs), width, "  "));
  return out.join("\n") + "\n";
}

/** The lines for one cell that is not as expected: id, verdict, reasons, golden diff. */
export function cellLines(r: CellResult, width: number, p: Palette = palette(false)): string[] {
  const out: string[] = [];
  out.push(...wrap(`${r.outcome.toUpperCase()} ${r.id}: ${r.verdict}: ${r.reason}`, width, "    ").map((l, i) => (i === 0 ? p.bad(l) : l)));
  out.push(...wrap(`(${r.outcomeReason})`, width - 4, "    ").map((l) => "    " + l.trimStart()));
  if (r.golden?.status === "mismatch" && r.golden.diff) {
    const diff = r.golden.diff.split("\n");
    for (const d of diff.slice(0, 12)) out.push(fit(`      ${d}`, width).trimEnd());
    if (diff.length > 12) out.push(`      ... ${diff.length - 12} more diff lines (xend-compat explain ${r.id})`);
  }
  return out;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
