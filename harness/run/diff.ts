/**
 * Patch impact: what changes, cell by cell, between two libvirt versions run on the same matrix.
 *
 * The answer leads with verdicts (how many cells change verdict, from what to what), then groups the
 * cells by cause: cells whose verdict moves the same way and whose observations differ in the same
 * respects are one group. A maintainer reads "12 cells: changed → preserved (clock after, rtc_timeoffset
 * returned)" before any detail. `failOn` turns the answer into a CI decision.
 */
import { signed } from "./effective.js";
import { supportAnswers, type SupportStatus } from "./support.js";
import type { CellResult, Verdict } from "./types.js";

/** What `diff` compares of a cell, as labelled values. */
export function observed(r: CellResult): [string, string][] {
  const o = r.observation;
  return [
    ["verdict", r.verdict],
    ["clock after", o.clockAfter ? `${o.clockAfter.xml ?? "none"} (${o.clockAfter.description})` : "(none)"],
    ["localtime returned", o.localtimePaths.map((p) => `${p.path} ${p.value}`).join(", ") || "nowhere"],
    ["rtc_timeoffset returned", o.rtcTimeoffsetPaths.map((p) => `${p.path} ${p.value}`).join(", ") || "nowhere"],
    ["guest clock", o.effective.map((e) => `${e.step} ${signed(e.utcOffset)}`).join(", ") || "unknown"],
    ["cmdline after", o.cmdlineAfter === null ? "(none)" : JSON.stringify(o.cmdlineAfter)],
    ["libvirt error", o.libvirt.error ?? "none"],
    ["xend error", o.xendError ?? "none"],
  ];
}

export interface Change {
  what: string;
  from: string;
  to: string;
}

export interface CellDiff {
  /** `<xend>/<scenario>`: the cell without its libvirt part, the same on both sides. */
  key: string;
  xend: string;
  scenario: string;
  from: CellResult;
  to: CellResult;
  changes: Change[];
}

export interface VerdictMove {
  from: Verdict;
  to: Verdict;
  cells: number;
}

export interface DiffGroup {
  /** `changed → preserved`, or the verdict both sides share. */
  verdict: string;
  /** The observations that differ, the same for every cell of the group. */
  what: string[];
  cells: string[];
}

export interface SupportMove {
  xend: string;
  from: SupportStatus;
  to: SupportStatus;
}

export interface Diff {
  from: string;
  to: string;
  fromProfile: string | undefined;
  toProfile: string | undefined;
  /** Cells compared (present on both sides). */
  compared: number;
  /** Cells that differ in verdict or in what was observed. */
  differ: number;
  verdictMoves: VerdictMove[];
  groups: DiffGroup[];
  cells: CellDiff[];
  support: SupportMove[];
  /** Cells that could not be compared: an `error` verdict on either side. */
  errors: string[];
}

export const FAIL_ON = ["changed", "rejected", "any"] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** Compare the results of two libvirt versions over the same cells. */
export function diffResults(fromVersion: string, toVersion: string, all: CellResult[]): Diff {
  const from = all.filter((r) => r.libvirt === fromVersion);
  const to = all.filter((r) => r.libvirt === toVersion);
  const key = (r: CellResult) => `${r.xend}/${r.scenario}`;
  const toBy = new Map(to.map((r) => [key(r), r]));
  const cells: CellDiff[] = [];
  let compared = 0;
  for (const a of from) {
    const b = toBy.get(key(a));
    if (!b) continue;
    compared++;
    const oa = observed(a);
    const ob = observed(b);
    const changes = oa.flatMap(([what, va], i) => (va === ob[i][1] ? [] : [{ what, from: va, to: ob[i][1] }]));
    if (changes.length) cells.push({ key: key(a), xend: a.xend, scenario: a.scenario, from: a, to: b, changes });
  }
  const moves = new Map<string, VerdictMove>();
  for (const c of cells) {
    if (c.from.verdict === c.to.verdict) continue;
    const k = `${c.from.verdict}>${c.to.verdict}`;
    const m = moves.get(k) ?? { from: c.from.verdict, to: c.to.verdict, cells: 0 };
    m.cells++;
    moves.set(k, m);
  }
  const groups = new Map<string, DiffGroup>();
  for (const c of cells) {
    const verdict = c.from.verdict === c.to.verdict ? c.to.verdict : `${c.from.verdict} → ${c.to.verdict}`;
    const what = c.changes.map((x) => x.what).filter((w) => w !== "verdict");
    const k = `${verdict}|${what.join(",")}`;
    const g = groups.get(k) ?? { verdict, what, cells: [] };
    g.cells.push(c.key);
    groups.set(k, g);
  }
  // Verdict moves first (what a maintainer must look at), bigger groups before smaller, then by name.
  const ordered = [...groups.values()].sort(
    (a, b) => Number(b.verdict.includes("→")) - Number(a.verdict.includes("→")) || b.cells.length - a.cells.length || a.verdict.localeCompare(b.verdict) || a.what.join().localeCompare(b.what.join()),
  );
  const sb = new Map(supportAnswers(to).map((s) => [s.xend, s]));
  const support = supportAnswers(from).flatMap((s) => {
    const t = sb.get(s.xend);
    return t && t.status !== s.status ? [{ xend: s.xend, from: s.status, to: t.status }] : [];
  });
  return {
    from: fromVersion,
    to: toVersion,
    fromProfile: from[0]?.profileId,
    toProfile: to[0]?.profileId,
    compared,
    differ: cells.length,
    verdictMoves: [...moves.values()].sort((a, b) => b.cells - a.cells || `${a.from}${a.to}`.localeCompare(`${b.from}${b.to}`)),
    groups: ordered,
    cells,
    support,
    errors: [...from, ...to].filter((r) => r.verdict === "error").map((r) => r.id),
  };
}

/**
 * Should CI fail? `changed`: some cell is silently different (`changed`) with --to where it was not with
 * --from; `rejected`: some cell is newly refused (`rejected`); `any`: some cell differs at all. Returns the
 * cells that trip it (empty: do not fail).
 */
export function failingCells(d: Diff, on: FailOn): string[] {
  if (on === "any") return d.cells.map((c) => c.key);
  return d.cells.filter((c) => c.to.verdict === on && c.from.verdict !== on).map((c) => c.key);
}

/** The diff as plain data for `--json` (cell results reduced to what differs). */
export function diffJson(d: Diff, failOn?: FailOn): unknown {
  return {
    from: { libvirt: d.from, profile: d.fromProfile ?? null },
    to: { libvirt: d.to, profile: d.toProfile ?? null },
    compared: d.compared,
    differ: d.differ,
    verdictMoves: d.verdictMoves,
    groups: d.groups,
    cells: d.cells.map((c) => ({
      cell: c.key,
      xend: c.xend,
      scenario: c.scenario,
      from: { id: c.from.id, verdict: c.from.verdict, reason: c.from.reason },
      to: { id: c.to.id, verdict: c.to.verdict, reason: c.to.reason },
      changes: c.changes,
    })),
    support: d.support,
    errors: d.errors,
    ...(failOn ? { failOn, failing: failingCells(d, failOn) } : {}),
  };
}
