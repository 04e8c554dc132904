import { describe, expect, it } from "vitest";
import { asExpected, outcomeOf } from "../harness/run/index.js";

const known = (verdict: "changed" | "rejected" | "preserved" | "error" | "skipped") => ({ verdict, reason: "known" });

describe("outcome from verdict and expectation", () => {
  it("without an expectation, preserved is expected", () => {
    expect(outcomeOf("preserved", null).outcome).toBe("pass");
    expect(outcomeOf("changed", null).outcome).toBe("fail");
    expect(outcomeOf("rejected", null).outcome).toBe("fail");
    expect(outcomeOf("error", null).outcome).toBe("fail");
    expect(outcomeOf("skipped", null).outcome).toBe("skip");
  });

  it("a known problem showing as expected is xfail; gone is xpass; a different problem is fail", () => {
    expect(outcomeOf("changed", known("changed"))).toEqual({ outcome: "xfail", reason: "expected changed: known" });
    expect(outcomeOf("rejected", known("rejected")).outcome).toBe("xfail");
    expect(outcomeOf("preserved", known("changed")).outcome).toBe("xpass");
    expect(outcomeOf("rejected", known("changed")).outcome).toBe("fail");
    expect(outcomeOf("error", known("changed")).outcome).toBe("fail");
    expect(outcomeOf("skipped", known("changed")).outcome).toBe("skip");
  });

  it("expected failures are strict: an xpass fails the run, unless the expectation is flaky", () => {
    expect(asExpected(outcomeOf("preserved", known("changed")).outcome)).toBe(false);
    const flaky = { verdict: "changed" as const, reason: "a race", flaky: true };
    expect(outcomeOf("preserved", flaky)).toEqual({ outcome: "pass", reason: "preserved this time; expected changed: a race (flaky: shows only sometimes)" });
    expect(outcomeOf("changed", flaky).outcome).toBe("xfail");
    expect(outcomeOf("rejected", flaky).outcome).toBe("fail");
  });

  it("a golden mismatch fails a cell that would pass; a missing golden fails only under CI", () => {
    const mismatch = { status: "mismatch" as const, file: "g.txt", diff: "- a\n+ b" };
    const missing = { status: "missing" as const, file: "g.txt" };
    expect(outcomeOf("preserved", null, mismatch).outcome).toBe("fail");
    expect(outcomeOf("changed", known("changed"), mismatch).outcome).toBe("fail");
    expect(outcomeOf("preserved", null, missing, false).outcome).toBe("pass");
    expect(outcomeOf("preserved", null, missing, true).outcome).toBe("fail");
    expect(outcomeOf("preserved", null, missing, true).reason).toMatch(/CI/);
  });

  it("pass, xfail and skip are as expected; fail and xpass are not", () => {
    expect(["pass", "xfail", "skip", "fail", "xpass"].map((o) => asExpected(o as never))).toEqual([true, true, true, false, false]);
  });
});
