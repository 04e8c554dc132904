/**
 * Verdict + expectation (+ golden) → outcome.
 *
 * No expectation means "preserved" is expected. A cell whose verdict equals the expected one passes
 * when that verdict is good (`preserved`, `skipped`) and is an `xfail` (a known problem, showing as
 * expected) otherwise. A known problem that did not show (`preserved` where something else was
 * expected) is an `xpass`: the expectation is out of date, and that fails the run (strict), unless the
 * expectation says `flaky: true` (the problem shows only sometimes), where `preserved` passes. A `skipped` cell that was not expected to
 * skip is `skip` (nothing ran; counted, never a pass). Anything else is a `fail`. A golden mismatch
 * (or, under CI, a missing golden) turns pass/xfail into fail.
 */
import type { Expectation, Verdict } from "../matrix/index.js";
import type { GoldenResult, Outcome } from "./types.js";

export function outcomeOf(verdict: Verdict, expectation: Pick<Expectation, "verdict" | "reason" | "flaky"> | null | undefined, golden?: GoldenResult | null, ci = false): { outcome: Outcome; reason: string } {
  const expected: Verdict = expectation?.verdict ?? "preserved";
  const why = expectation ? `expected ${expected}: ${expectation.reason}` : "expected preserved (no expectation)";
  let outcome: Outcome;
  let reason: string;
  if (verdict === expected) {
    outcome = expected === "preserved" || expected === "skipped" ? "pass" : "xfail";
    reason = why;
  } else if (verdict === "skipped") {
    outcome = "skip";
    reason = `skipped; ${why}`;
  } else if (verdict === "preserved" && expectation?.flaky) {
    // Strict expected failures, except where the matrix says the problem shows only sometimes.
    outcome = "pass";
    reason = `preserved this time; ${why} (flaky: shows only sometimes)`;
  } else if (verdict === "preserved") {
    outcome = "xpass";
    reason = `preserved although ${why} (update the expectation)`;
  } else {
    outcome = "fail";
    reason = `${verdict}, but ${why}`;
  }
  if (golden && (outcome === "pass" || outcome === "xfail")) {
    if (golden.status === "mismatch") return { outcome: "fail", reason: `observation differs from golden ${golden.file}` };
    if (golden.status === "missing" && ci) return { outcome: "fail", reason: `no golden ${golden.file} (CI: goldens are required; run with --update-golden outside CI and review it)` };
  }
  return { outcome, reason };
}

/** Did the cell come out as the matrix expects? (exit code 1 when some did not) */
export function asExpected(outcome: Outcome): boolean {
  return outcome === "pass" || outcome === "xfail" || outcome === "skip";
}
