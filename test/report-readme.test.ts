import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { compactCells } from "../harness/report/readme.js";
import { findings, refreshReadme, replaceBlock, makeReport } from "../harness/report/index.js";
import { readmeStatus } from "../harness/report/readme-cli.js";
import { sampleResults } from "./fakes/report-fixture.js";

const recordingsDir = path.join(__dirname, "..", "fixtures", "recordings");
const haveRecordings = ["3.2", "3.4.3", "4.1.2"].every((v) => fs.existsSync(path.join(recordingsDir, v)) && fs.readdirSync(path.join(recordingsDir, v)).length > 0);

describe("README generated blocks", () => {
  it("replaces only the text between the markers", () => {
    const t = "a\n<!-- generated:support:begin -->\nold\n<!-- generated:support:end -->\nz\n";
    expect(replaceBlock(t, "support", "new")).toBe("a\n<!-- generated:support:begin -->\nnew\n<!-- generated:support:end -->\nz\n");
    expect(() => replaceBlock("no markers", "support", "x")).toThrow(/no <!-- generated:support:begin -->/);
  });

  it("derives findings from the run: one line per problem with the cells that show it", async () => {
    const rs = await sampleResults();
    const fs_ = findings(rs);
    expect(fs_.map((f) => [f.verdict, f.text, f.cells.length])).toEqual([
      ["rejected", 'variable <is> unsupported & "quoted"', 4],
      ["changed", "clock: intended localtime, libvirt shows <clock offset='utc'/> (utc)", 2],
    ]);
    expect(compactCells(fs_[0].cells)).toBe("hvm-var with libvirt 0.8.7+rfc-localtime, 0.9.11 on xend 3.2, 4.1.2");
    expect(compactCells(["3.2/a/s1", "4.1.2/a/s1", "3.2/a/s2", "4.1.2/a/s2", "3.2/b/s1"])).toBe("s1, s2 with libvirt a on xend 3.2, 4.1.2; s1 with libvirt b on xend 3.2");
    const readme = "x\n<!-- generated:support:begin -->\n<!-- generated:support:end -->\n<!-- generated:findings:begin -->\n<!-- generated:findings:end -->\n";
    const out = refreshReadme(readme, makeReport({ name: "r", file: "m" }, "sandbox", rs));
    expect(out).toContain("| 0.9.11 | **unsafe**");
    expect(out).toContain("- **rejected**: variable <is> unsupported & \"quoted\" (fixed by 11ec6bd89). Cells: hvm-var with libvirt 0.8.7+rfc-localtime, 0.9.11 on xend 3.2, 4.1.2.");
  });

  it.skipIf(!haveRecordings)("README.md is up to date with the default matrix (skipped: no recordings yet)", async () => {
    const s = await readmeStatus();
    expect(s.errors).toBe(0);
    expect(s.current, "run: npx tsx harness/report/readme-cli.ts").toBe(s.fresh);
  });
});
