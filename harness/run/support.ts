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

/** Releases whose answers are the same for every xend version: same status and the same scenarios under each verdict. */
export interface SupportGroup {
  /** The member releases, in the order of the answers. */
  libvirts: string[];
  /** `0.9.11 … 1.3.0 (49 releases)`: runs of consecutive members (in the answers' order) joined by `…`. */
  label: string;
  /** The profiles of the members (several when different profiles happen to answer alike). */
  profiles: string[];
  /** The answers of the first member, one per xend version (the others' are the same). */
  answers: SupportAnswer[];
}

function answerKey(a: SupportAnswer): string {
  return `${a.xend}\u0001${a.status}\u0001${Object.entries(a.scenarios)
    .map(([v, ss]) => `${v}=${[...ss].sort().join(",")}`)
    .join(";")}`;
}

/**
 * Group the releases that behave alike, computed from the answers (never from a list written by hand):
 * two releases are in one group when, for every xend version, they give the same status with the same
 * scenarios under each verdict. Groups are in the order of their first member.
 */
export function groupSupport(answers: SupportAnswer[]): SupportGroup[] {
  const order: string[] = [];
  const byLibvirt = new Map<string, SupportAnswer[]>();
  for (const a of answers) {
    if (!byLibvirt.has(a.libvirt)) {
      byLibvirt.set(a.libvirt, []);
      order.push(a.libvirt);
    }
    byLibvirt.get(a.libvirt)!.push(a);
  }
  const groups = new Map<string, string[]>();
  for (const l of order) {
    const key = byLibvirt.get(l)!.map(answerKey).join("\u0002");
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(l);
  }
  const index = new Map(order.map((l, i) => [l, i]));
  return [...groups.values()].map((members) => {
    const runs: string[][] = [];
    for (const m of members) {
      const last = runs[runs.length - 1];
      if (last && index.get(last[last.length - 1])! + 1 === index.get(m)) last.push(m);
      else runs.push([m]);
    }
    const text = runs.map((r) => (r.length === 1 ? r[0] : r.length === 2 ? `${r[0]}, ${r[1]}` : `${r[0]} … ${r[r.length - 1]}`)).join(", ");
    const profiles = [...new Set(members.map((m) => byLibvirt.get(m)![0].profileId))];
    return {
      libvirts: members,
      label: members.length > 1 ? `${text} (${members.length} releases)` : text,
      profiles,
      answers: byLibvirt.get(members[0])!,
    };
  });
}

/** One answer per (group, xend), named by the group's label and profiles: what `support --group` prints and the README's release table shows. */
export function groupedAnswers(answers: SupportAnswer[]): SupportAnswer[] {
  // a profile is named only where it is not one of the group's releases (profiles are per release; the patch profile is not)
  return groupSupport(answers).flatMap((g) => g.answers.map((a) => ({ ...a, libvirt: g.label, profileId: g.profiles.filter((p) => !g.libvirts.includes(p)).join(", ") })));
}
