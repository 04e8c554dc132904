/** A small run (fake xend, toy profile) whose results the reporter tests render. */
import { runCells, type CellResult } from "../../harness/run/index.js";
import { makeReport, type RunReport } from "../../harness/report/index.js";
import { cellsOf, domainXml, FakeXend, toyProfile } from "./run-fakes.js";

const FILES = {
  "d/lt.xml": domainXml("lt", "<clock offset='localtime'/>"),
  "d/var.xml": domainXml("v", "<clock offset='variable' adjustment='3600' basis='utc'/>"),
  "d/utc.xml": domainXml("u", "<clock offset='utc'/>"),
};

export const REPORT_MATRIX = `name: r
xend: ["3.2", "4.1.2"]
libvirt: ["0.8.7+rfc-localtime", "0.9.11"]
scenarios:
  - {id: hvm-localtime-guest-sets-rtc-restart, description: d, domain: d/lt.xml, steps: [define, read]}
  - {id: hvm-var, description: d, domain: d/var.xml, steps: [define, read]}
  - {id: hvm-utc, description: d, domain: d/utc.xml, steps: [define, read]}
expectations:
  - {cells: '*/*/hvm-var', verdict: rejected, reason: "variable <is> unsupported & \\"quoted\\"", fixedBy: 11ec6bd89}
  - {cells: '3.2/0.9.11/hvm-utc', verdict: changed, reason: "known: 3.2 & 0.9.11", report: "facts/xend.md"}
`;

export async function sampleResults(): Promise<CellResult[]> {
  const cells = cellsOf(REPORT_MATRIX, FILES);
  return runCells(cells, {
    backendFor: async (v) =>
      new FakeXend(v, v === "3.2" ? { readBack: (c) => c.replace(/^\(vm/, "(domain").replace("(localtime 1)", "(localtime 0)") } : {}),
    profileFor: () => toyProfile(),
  });
}

export async function sampleReport(): Promise<RunReport> {
  return makeReport({ name: "r", file: "m.yaml" }, "sandbox", await sampleResults(), ["fixtures/golden/9.9/x/y.txt"]);
}
