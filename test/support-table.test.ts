/**
 * The whole support table of the default matrix, replayed from the recordings of real xend 3.2,
 * 3.4.3 and 4.1.2. It changes only when a profile, a recording, the runner's judgement or the matrix
 * changes, and then this table must be re-reviewed. Skipped (with the reason) until recordings exist.
 */
import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { execute, supportAnswers, supportStatus } from "../harness/run/index.js";
import { loadRecording, recordingPath, XEND_SERIES } from "../harness/xend/index.js";

const recordingsDir = path.join(__dirname, "..", "fixtures", "recordings");
const haveRecordings = ["3.2", "3.4.3", "4.1.2"].every((v) => fs.existsSync(path.join(recordingsDir, v)) && fs.readdirSync(path.join(recordingsDir, v)).length > 0);

// libvirt, xend, status, preserved, rejected, changed, error, skipped
const EXPECTED: [string, string, string, number, number, number, number, number][] = [
  ["0.8.7", "3.2", "unsafe", 5, 4, 5, 0, 0],
  ["0.8.7", "3.4.3", "unsafe", 5, 4, 5, 0, 0],
  ["0.8.7", "4.1.2", "unsafe", 5, 4, 5, 0, 0],
  ["0.9.10", "3.2", "unsafe", 9, 3, 2, 0, 0],
  ["0.9.10", "3.4.3", "unsafe", 9, 3, 2, 0, 0],
  ["0.9.10", "4.1.2", "unsafe", 9, 3, 2, 0, 0],
  ["0.9.11", "3.2", "unsafe", 9, 1, 4, 0, 0],
  ["0.9.11", "3.4.3", "unsafe", 11, 1, 2, 0, 0],
  ["0.9.11", "4.1.2", "partial", 13, 1, 0, 0, 0],
  ["1.3.1", "3.2", "unsafe", 9, 1, 4, 0, 0],
  ["1.3.1", "3.4.3", "unsafe", 11, 1, 2, 0, 0],
  ["1.3.1", "4.1.2", "partial", 13, 1, 0, 0, 0],
  ["0.8.7+rfc-localtime", "3.2", "unsafe", 6, 2, 6, 0, 0],
  ["0.8.7+rfc-localtime", "3.4.3", "unsafe", 7, 2, 5, 0, 0],
  ["0.8.7+rfc-localtime", "4.1.2", "unsafe", 9, 2, 3, 0, 0],
];

describe("support table of the default matrix", () => {
  it.skipIf(!haveRecordings)("is exactly the reviewed table, and every cell is as the matrix expects (skipped: no recordings yet)", async () => {
    const ex = await execute({ cwd: path.join(__dirname, ".."), env: {} });
    const got = supportAnswers(ex.results).map((s) => [s.libvirt, s.xend, s.status, s.counts.preserved, s.counts.rejected, s.counts.changed, s.counts.error, s.counts.skipped]);
    const order = (r: (string | number)[]) => `${r[0]}/${r[1]}`;
    expect(got.sort((a, b) => order(a).localeCompare(order(b)))).toEqual([...EXPECTED].sort((a, b) => order(a).localeCompare(order(b))));
    const unexpected = ex.results.filter((r) => r.outcome === "fail" || r.outcome === "xpass").map((r) => `${r.id}: ${r.outcome}: ${r.outcomeReason}`);
    expect(unexpected).toEqual([]);
  });
});

describe("a libvirt release without recordings of its own", () => {
  it.skipIf(!haveRecordings)("1.1.3 replays the recordings of the releases that send the same requests (0.9.12 for HVM, 0.9.11 for PV) and gets 0.9.12's answers, saying so (skipped: no recordings yet)", async () => {
    const cwd = path.join(__dirname, "..");
    expect(fs.existsSync(path.join(recordingsDir, "3.2", "1.1.3"))).toBe(false);
    const [a, b] = await Promise.all([execute({ cwd, env: {}, libvirt: ["1.1.3"] }), execute({ cwd, env: {}, libvirt: ["0.9.12"] })]);
    const answer = (ex: typeof a) => supportAnswers(ex.results).map((s) => ({ xend: s.xend, status: s.status, counts: s.counts, scenarios: s.scenarios }));
    expect(answer(a)).toEqual(answer(b));
    expect(a.results.map((r) => r.verdict)).toEqual(b.results.map((r) => r.verdict));
    expect(a.results.filter((r) => r.verdict === "error")).toEqual([]);
    for (const r of a.results) {
      // 0.9.12 (fb98da005) writes an HVM guest's graphics only in the image: HVM requests differ from 0.9.11's
      // (hvm-timezone is refused before anything is sent: 0.9.11, first in version order, sends the same)
      const src = r.scenario.startsWith("hvm-") && r.scenario !== "hvm-timezone" ? "0.9.12" : "0.9.11";
      expect(r.observation.notes).toContain(`replayed from the ${src} recording: libvirt ${src} sends the same requests in this scenario (fixtures/recordings/${r.xend}/${src}/${r.scenario}.yaml; this cell has no recording of its own)`);
    }
    // the cell's own recording is still preferred where it exists
    for (const r of b.results.filter((x) => x.scenario.startsWith("hvm-"))) expect(r.observation.notes.filter((n) => n.startsWith("replayed from"))).toEqual([]);
  });
});

describe("support status", () => {
  const counts = (c: Partial<Record<"preserved" | "rejected" | "changed" | "error" | "skipped", number>>) => ({ preserved: 0, rejected: 0, changed: 0, error: 0, skipped: 0, ...c });
  it("is full only when every cell was preserved: an error or skipped cell never hides behind it", () => {
    expect(supportStatus(counts({ preserved: 14 }))).toBe("full");
    expect(supportStatus(counts({ preserved: 13, error: 1 }))).toBe("partial");
    expect(supportStatus(counts({ preserved: 13, skipped: 1 }))).toBe("partial");
    expect(supportStatus(counts({ preserved: 12, rejected: 1, error: 1 }))).toBe("partial");
    expect(supportStatus(counts({ preserved: 12, changed: 1, error: 1 }))).toBe("unsafe");
    expect(supportStatus(counts({ error: 13, skipped: 1 }))).toBe("untested");
    expect(supportStatus(counts({}))).toBe("untested");
  });
});

// The full matrix's support table, ten xend series as columns: test/full-matrix.test.ts.
describe("the xend series", () => {
  it("every series' recordings name the tree and commit of harness/xend/series.ts", async () => {
    for (const s of XEND_SERIES) {
      const r = await loadRecording(recordingPath(recordingsDir, `${s.version}/0.9.11/pv-utc`));
      expect({ tree: r.provenance.tree, commit: r.provenance.commit }, s.version).toEqual({ tree: s.repo, commit: s.commit });
    }
  });
});
