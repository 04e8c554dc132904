/**
 * The JSON report (a contract, see DESIGN.md "Command line"): one object with `cells[]` and
 * `support[]`. Field names are stable; new fields may be added.
 */
import { VERSION } from "../version.js";
import { countRun, type RunReport } from "./model.js";

export function renderJson(report: RunReport): string {
  const obj = {
    tool: "xend-compat",
    version: VERSION,
    matrix: report.matrix,
    backend: report.backend,
    summary: countRun(report.results),
    cells: report.results.map((r) => ({
      id: r.id,
      xend: r.xend,
      libvirt: r.libvirt,
      profile: r.profileId,
      scenario: r.scenario,
      guest: r.guest,
      backend: r.backend,
      ...(r.replayed ? { replayed: true } : {}),
      wire: r.wire,
      verdict: r.verdict,
      reason: r.reason,
      outcome: r.outcome,
      outcomeReason: r.outcomeReason,
      expectation: r.expectation,
      golden: r.golden,
      observation: r.observation,
      ...(r.durationMs !== undefined ? { durationMs: r.durationMs } : {}),
    })),
    support: report.support.map((s) => ({
      libvirt: s.libvirt,
      profile: s.profileId,
      xend: s.xend,
      status: s.status,
      counts: s.counts,
      scenarios: s.scenarios,
      why: s.why,
    })),
    obsoleteGoldens: report.obsoleteGoldens,
  };
  return JSON.stringify(obj, null, 2) + "\n";
}
