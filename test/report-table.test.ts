import { describe, expect, it } from "vitest";
import { renderTable, wrap } from "../harness/report/index.js";
import { main } from "../harness/cli.js";
import { sampleReport } from "./fakes/report-fixture.js";

const ANSI = /\u001b\[/;

describe("terminal table", () => {
  it("fits 80 columns and ends with the summary of where cells ran", async () => {
    const text = renderTable(await sampleReport(), { width: 80 });
    for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(text).toContain("hvm-localtime-guest-sets-rtc-restart");
    expect(text).toMatch(/Not as expected \(3\):/);
    expect(text).toMatch(/XPASS 3\.2\/0\.9\.11\/hvm-utc: preserved/);
    expect(text.replace(/\s+/g, " ")).toMatch(/12 cells: 0 ran live, 12 in a sandbox, 0 in a container, 0 replayed, 0 skipped, 0 errors/);
    expect(text).toMatch(/columns: 0\.8\.7\+… = 0\.8\.7\+rfc-localtime/);
    expect(text).not.toMatch(ANSI);
  });

  it("says why cells were skipped, grouped by reason", async () => {
    const report = await sampleReport();
    const skip = (i: number, reason: string) => Object.assign(report.results[i], { verdict: "skipped" as const, outcome: "skip" as const, reason });
    for (const i of [0, 1, 2, 3, 4]) skip(i, "no Xen source tree for xend 3.2 (set XEND_COMPAT_XEN_SRC_3_2)");
    skip(5, "the guest's clock cannot be decided on a live host");
    const text = renderTable(report, { width: 80 });
    const section = text.slice(text.indexOf("Skipped (6):"));
    expect(section.replace(/\s+/g, " ")).toMatch(/5 cell\(s\): no Xen source tree for xend 3\.2 \(set XEND_COMPAT_XEN_SRC_3_2\) \(\S+, \S+, \S+ and 2 more\)/);
    expect(section.replace(/\s+/g, " ")).toContain("1 cell(s): the guest's clock cannot be decided on a live host (");
    for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it("uses colour only when asked", async () => {
    const r = await sampleReport();
    // picocolors decides by its own environment; when asked for colour it paints
    expect(renderTable(r, { color: true })).toMatch(ANSI);
    expect(renderTable(r, { color: false })).not.toMatch(ANSI);
  });

  it("the CLI never colours with NO_COLOR or without a terminal", async () => {
    for (const env of [{ NO_COLOR: "1" }, {}]) {
      let out = "";
      const io = { out: (s: string) => (out += s + "\n"), err: () => {}, isTTY: "NO_COLOR" in env, env: { ...env } as NodeJS.ProcessEnv, cwd: process.cwd() };
      await main(["run", "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "hvm-utc"], io);
      expect(out).toContain("hvm-utc");
      expect(out).not.toMatch(ANSI);
    }
  });

  it("wraps long words and lines", () => {
    expect(wrap("aaa bbb ccc", 7, "  ")).toEqual(["aaa bbb", "  ccc"]);
    for (const l of wrap("x".repeat(30) + " y", 10, "  ")) expect(l.length).toBeLessThanOrEqual(10);
  });
});
