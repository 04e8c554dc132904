/**
 * matrices/full.yaml: the xend of every Xen series × every libvirt release the tool resolves (the list
 * of matrices/releases.yaml) and the 2012 RFC patch × every scenario of the default matrix and one where
 * the series differ (pv-localtime-start): 25,500 cells, replayed once here from the shipped recordings and compared with the shipped goldens as under
 * CI (a missing golden fails). Every cell has an expectation (the last rule names, as preserved, every
 * cell no other rule names). The only cells not as expected are the model's known gaps, listed below
 * (docs/xend-series.md#libvirt-before-077): the test fails when one closes (prune the list) or another
 * one opens.
 */
import { beforeAll, describe, expect, it } from "vitest";
import * as path from "node:path";
import { execute, supportAnswers, type Execution } from "../harness/run/index.js";
import { loadMatrix } from "../harness/matrix/index.js";
import { seriesLabel, XEND_SERIES } from "../harness/xend/index.js";

const ROOT = path.join(__dirname, "..");
const FULL = path.join(ROOT, "matrices", "full.yaml");

// libvirt, xend, status, preserved, rejected, changed, error, skipped: the libvirt versions of the
// default matrix against every series (the README's table has every release, grouped); 15 scenarios.
const EXPECTED: [string, string, string, number, number, number, number, number][] = [
  ["0.8.7", "3.0.0", "partial", 0, 3, 0, 0, 12],
  ["0.8.7", "3.1", "unsafe", 5, 4, 6, 0, 0],
  ["0.9.10", "3.0.0", "partial", 0, 3, 0, 0, 12],
  ["0.9.10", "3.1", "unsafe", 9, 3, 3, 0, 0],
  ["0.9.11", "3.0.0", "partial", 0, 3, 0, 0, 12],
  ["0.9.11", "3.1", "unsafe", 12, 1, 2, 0, 0],
  ["0.9.11", "3.2", "unsafe", 10, 1, 4, 0, 0],
  ["0.9.11", "3.3", "unsafe", 10, 1, 4, 0, 0],
  ["0.9.11", "3.4.3", "unsafe", 12, 1, 2, 0, 0],
  ["1.3.1", "3.0.0", "partial", 0, 15, 0, 0, 0],
  ["1.3.1", "3.1", "unsafe", 6, 8, 1, 0, 0],
  ["0.8.7+rfc-localtime", "3.0.0", "partial", 0, 3, 0, 0, 12],
  ["0.8.7+rfc-localtime", "3.1", "unsafe", 9, 2, 4, 0, 0],
  ...["4.0.4", "4.1.2", "4.2.5", "4.3.4", "4.4.4"].flatMap((x): [string, string, string, number, number, number, number, number][] => [
    ["0.8.7", x, "unsafe", 5, 4, 6, 0, 0],
    ["0.9.10", x, "unsafe", 10, 3, 2, 0, 0],
    ["0.9.11", x, "partial", 14, 1, 0, 0, 0],
    ["1.3.1", x, "partial", 14, 1, 0, 0, 0],
    ["0.8.7+rfc-localtime", x, "unsafe", 10, 2, 3, 0, 0],
  ]),
];

describe("matrices/full.yaml: every xend series × every libvirt release × every scenario", () => {
  let ex: Execution;
  beforeAll(async () => {
    ex = await execute({ cwd: ROOT, env: { CI: "1" }, matrix: FULL, golden: { update: false } });
  }, 600_000);

  it("names every release of matrices/releases.yaml and the RFC patch, every xend series and the default scenarios", () => {
    const full = loadMatrix(FULL);
    const releases = loadMatrix(path.join(ROOT, "matrices", "releases.yaml"));
    const def = loadMatrix(path.join(ROOT, "matrices", "default.yaml"));
    expect(full.libvirt).toEqual([...releases.libvirt, "0.8.7+rfc-localtime"]);
    expect(full.xend).toEqual(XEND_SERIES.map((s) => s.version));
    // the default matrix's scenarios, and the ones where the series differ
    const own = ["pv-localtime-start"];
    expect(full.scenarios.filter((s) => !own.includes(s.id)).map((s) => [s.id, s.xml, s.steps, s.checks])).toEqual(def.scenarios.map((s) => [s.id, s.xml, s.steps, s.checks]));
    expect(full.scenarios.map((s) => s.id).filter((id) => own.includes(id))).toEqual(own);
    expect(ex.results.length).toBe(10 * (releases.libvirt.length + 1) * 15);
    // the last rule names every cell no other rule names, as preserved
    const last = full.expectations.at(-1)!;
    expect([last.cells, last.verdict]).toEqual(["*/*/*", "preserved"]);
    expect(ex.results.filter((r) => r.expectation === null)).toEqual([]);
  });

  it("replays with no error and every golden matching; every cell as expected", () => {
    expect(ex.results.filter((r) => r.verdict === "error").map((r) => `${r.id}: ${r.reason}`)).toEqual([]);
    const golden = ex.results.filter((r) => (r.verdict === "skipped" ? r.golden?.status !== "not-compared" : r.golden?.status !== "match"));
    expect(golden.map((r) => `${r.id}: ${r.golden?.status} ${r.golden?.file}`)).toEqual([]);
    expect(ex.obsoleteGoldens).toEqual([]);
    const off = ex.results.filter((r) => r.outcome === "fail" || r.outcome === "xpass");
    expect(off.map((r) => `${r.id}: ${r.outcome}: ${r.outcomeReason}`)).toEqual([]);
  });

  it("libvirt before 0.7.7 takes a variable or timezone clock as utc (changed), 0.7.7 refuses it (rejected)", () => {
    const at = (id: string) => ex.results.find((r) => r.id === id)!;
    for (const s of ["hvm-adjust-utc-3600", "hvm-adjust-localtime-m7200", "hvm-timezone"]) {
      expect(at(`4.1.2/0.6.2/${s}`).verdict, s).toBe("changed");
      expect(at(`4.1.2/0.7.6/${s}`).verdict, s).toBe("changed");
      expect(at(`4.1.2/0.7.7/${s}`).verdict, s).toBe("rejected");
    }
  });

  it("pv-localtime-start: xend 3.1 starts a PV localtime guest on UTC (real recordings of every series)", () => {
    const at = (id: string) => ex.results.find((r) => r.id === id)!;
    expect(XEND_SERIES.map((s) => at(`${s.version}/0.9.11/pv-localtime-start`).verdict)).toEqual(["skipped", "changed", ...Array(8).fill("preserved")]);
    expect(at("3.1/1.1.3/pv-localtime-start").reason).toMatch(/runs at UTC\+0s .*intended UTC\+7200s/);
  });

  it("xend 3.0.0: libvirt before 1.3.1 defines through its xm-file driver (skipped), which refuses the clocks it cannot write with its own message", () => {
    const at = (id: string) => ex.results.find((r) => r.id === id)!;
    expect([at("3.0.0/0.6.2/hvm-timezone").verdict, at("3.0.0/0.7.7/hvm-timezone").verdict]).toEqual(["skipped", "rejected"]);
    expect(at("3.0.0/0.8.7/hvm-adjust-utc-3600").reason).toBe("libvirt refuses (defining through its xm-file driver, xend_config_format 1): unsupported clock offset 'variable'");
    expect(at("3.0.0/1.2.0/hvm-adjust-utc-3600").reason).toBe("libvirt refuses (defining through its xm-file driver, xend_config_format 1): unsupported clock offset='variable'");
    expect(at("3.0.0/0.8.7+rfc-localtime/hvm-adjust-utc-3600").verdict).toBe("rejected");
    expect(at("3.0.0/1.3.0/hvm-utc").verdict).toBe("skipped");
    expect(at("3.0.0/1.3.1/hvm-utc").reason).toMatch(/Operation not implemented: new/);
  });

  it("answers support per series (ten columns, each with its tree's honest label)", () => {
    const answers = supportAnswers(ex.results);
    const rows = new Set(EXPECTED.map((e) => `${e[0]}/${e[1]}`));
    const got = answers.filter((s) => rows.has(`${s.libvirt}/${s.xend}`)).map((s) => [s.libvirt, s.xend, s.status, s.counts.preserved, s.counts.rejected, s.counts.changed, s.counts.error, s.counts.skipped]);
    const order = (r: (string | number)[]) => `${r[0]}/${r[1]}`;
    expect(got.sort((a, b) => order(a).localeCompare(order(b)))).toEqual([...EXPECTED].sort((a, b) => order(a).localeCompare(order(b))));
    const xends = [...new Set(answers.map((a) => a.xend))];
    expect(xends).toEqual(XEND_SERIES.map((s) => s.version));
    expect(xends.map(seriesLabel)).toEqual([
      "3.0 (RELEASE-3.0.0, commit 4f1fd000)",
      "3.1 (tree at 3.1.0-branched, commit 15f6eaad)",
      "3.2 (3.2.2 release import, mikesun/xen-cow-checkpointing commit 49bc7a02)",
      "3.3 (tree at 3.3.0-branched, commit b9c620d0)",
      "3.4 (labelled 3.4.3: a 3.4.4 release import, huddy1985/xen-3.4.4 commit 6bb45191)",
      "4.0 (RELEASE-4.0.4, commit 7be795d7)",
      "4.1 (RELEASE-4.1.2, commit eba9045a)",
      "4.2 (RELEASE-4.2.5, commit 7bcdeb9c)",
      "4.3 (RELEASE-4.3.4, commit c58b16ef)",
      "4.4 (RELEASE-4.4.4, commit a611ed5d)",
    ]);
  });
});
