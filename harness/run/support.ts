/**
 * Support answers: per (libvirt, xend), from the cells' verdicts.
 * `unsafe`: some scenario silently changed; `partial`: nothing changed, but something was rejected or
 * did not run (error, skipped) while others were preserved; `full`: every scenario was preserved (an
 * error or skipped cell never counts as support); `untested`: no scenario produced a verdict about the
 * round trip (all skipped or error). Error and skipped cells are counted and listed, never hidden.
 */
import { VERDICTS, type Verdict } from "../matrix/index.js";
import type { CellResult } from "./types.js";

export type SupportStatus = "full" | "partial" | "unsafe" | "untested";

export interface SupportAnswer {
  libvirt: string;
  profileId: string;
  xend: string;
  status: SupportStatus;
  counts: Record<Verdict, number>;
  /** Scenario ids per verdict. */
  scenarios: Record<Verdict, string[]>;
  /** One line per non-preserved scenario: `<scenario>: <reason>`. */
  why: string[];
}

function emptyCounts<T>(make: () => T): Record<Verdict, T> {
  return Object.fromEntries(VERDICTS.map((v) => [v, make()])) as Record<Verdict, T>;
}

export function supportStatus(counts: Record<Verdict, number>): SupportStatus {
  if (counts.changed > 0) return "unsafe";
  if (counts.rejected > 0) return "partial";
  if (counts.preserved === 0) return "untested";
  return counts.error > 0 || counts.skipped > 0 ? "partial" : "full";
}

/** One answer per (libvirt, xend) pair present in the results, in first-seen order. */
export function supportAnswers(results: CellResult[]): SupportAnswer[] {
  const libvirts: string[] = [];
  const xends: string[] = [];
  const byKey = new Map<string, CellResult[]>();
  for (const r of results) {
    if (!libvirts.includes(r.libvirt)) libvirts.push(r.libvirt);
    if (!xends.includes(r.xend)) xends.push(r.xend);
    const k = `${r.libvirt}\u0000${r.xend}`;
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k)!.push(r);
  }
  const out: SupportAnswer[] = [];
  for (const l of libvirts) {
    for (const x of xends) {
      const rs = byKey.get(`${l}\u0000${x}`);
      if (!rs) continue;
      const counts = emptyCounts(() => 0);
      const scenarios = emptyCounts<string[]>(() => []);
      const why: string[] = [];
      for (const r of rs) {
        counts[r.verdict]++;
        scenarios[r.verdict].push(r.scenario);
        if (r.verdict !== "preserved") why.push(`${r.scenario}: ${r.verdict}: ${r.expectation && r.expectation.verdict === r.verdict ? r.expectation.reason : r.reason}`);
      }
      out.push({ libvirt: l, profileId: rs[0].profileId, xend: x, status: supportStatus(counts), counts, scenarios, why });
    }
  }
  return out;
}
