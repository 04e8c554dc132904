import { describe, expect, it } from "vitest";
import * as path from "node:path";
import { expandCells, globMatch, instanceFor, parseCellId, parseMatrix } from "../harness/matrix/index.js";
import { domainXml, tempProject } from "./fakes/run-fakes.js";

const FILES = { "d/a.xml": domainXml("a", "<clock offset='utc'/>"), "d/b.xml": domainXml("b", "<clock offset='localtime'/>", "linux") };
const BASE = `name: small
xend: ["3.2", "4.1.2"]
libvirt: ["0.8.7", "0.9.11", "0.8.7+rfc-localtime"]
scenarios:
  - {id: hvm-a, description: a, domain: d/a.xml, steps: [define, read]}
  - {id: pv-b, description: b, domain: d/b.xml, steps: [define, read]}
`;

function matrix(extra = "") {
  const root = tempProject(FILES);
  return parseMatrix(BASE + extra, { file: path.join(root, "m.yaml"), root });
}

describe("cell-id globs", () => {
  it("'*' stays inside one segment, '**' crosses, braces alternate, dots and '+' are literal", () => {
    expect(globMatch("*/0.9.11/*", "4.1.2/0.9.11/hvm-a")).toBe(true);
    expect(globMatch("*", "4.1.2/0.9.11/hvm-a")).toBe(false);
    expect(globMatch("**", "4.1.2/0.9.11/hvm-a")).toBe(true);
    expect(globMatch("{3.2,4.1.2}/0.8.7/pv-?", "3.2/0.8.7/pv-b")).toBe(true);
    expect(globMatch("3.2/0.8.7/*", "3.2/0x8y7/pv-b")).toBe(false);
    expect(globMatch("*/0.8.7+rfc-localtime/*", "3.2/0.8.7+rfc-localtime/pv-b")).toBe(true);
    expect(globMatch("*/0.8.7+rfc-localtime/*", "3.2/0.8.77rfc-localtime/pv-b")).toBe(false);
  });
});

describe("expandCells", () => {
  it("expands xend × libvirt × scenario in matrix order with ids <xend>/<libvirt>/<scenario>", () => {
    const cells = expandCells(matrix());
    expect(cells.length).toBe(12);
    expect(cells[0].id).toBe("3.2/0.8.7/hvm-a");
    expect(cells[11].id).toBe("4.1.2/0.8.7+rfc-localtime/pv-b");
    expect(cells[2].profileId).toBe("0.9.11");
  });

  it("applies include, exclude and the command line's filters", () => {
    expect(expandCells(matrix("include: ['4.1.2/**']\nexclude: ['*/0.8.7/*']\n")).map((c) => c.id)).toEqual([
      "4.1.2/0.9.11/hvm-a",
      "4.1.2/0.9.11/pv-b",
      "4.1.2/0.8.7+rfc-localtime/hvm-a",
      "4.1.2/0.8.7+rfc-localtime/pv-b",
    ]);
    const m = matrix();
    expect(expandCells(m, { xend: ["3.2"], libvirt: ["0.9.12"], scenario: "pv-*" }).map((c) => [c.id, c.profileId])).toEqual([["3.2/0.9.12/pv-b", "0.9.12"]]);
    expect(() => expandCells(m, { scenario: "zzz*" })).toThrow(/matches no scenario/);
    expect(() => expandCells(m, { libvirt: ["9.9.9"] })).toThrow(/--libvirt/);
    expect(() => expandCells(m, { xend: ["latest"] })).toThrow(/not a xend version/);
  });

  it("gives each cell the first matching expectation", () => {
    const cells = expandCells(
      matrix(`expectations:
  - {cells: '*/0.8.7/pv-*', verdict: changed, reason: first, fixedBy: 8be115ff8}
  - {cells: '**', verdict: preserved, reason: rest}
`),
    );
    expect(cells.find((c) => c.id === "3.2/0.8.7/pv-b")!.expectation!.reason).toBe("first");
    expect(cells.find((c) => c.id === "3.2/0.9.11/pv-b")!.expectation!.reason).toBe("rest");
  });

  it("derives domain name and uuid from profile and scenario: stable, distinct per cell of one xend", () => {
    const cells = expandCells(matrix());
    const of32 = cells.filter((c) => c.xend === "3.2");
    expect(new Set(of32.map((c) => c.instance.name)).size).toBe(of32.length);
    expect(new Set(of32.map((c) => c.instance.uuid)).size).toBe(of32.length);
    expect(cells[0].instance).toEqual(instanceFor("0.6.2-0.9.4", "hvm-a"));
    expect(cells[0].instance.name).toBe("xc-hvm-a-v062");
    expect(cells[0].instance.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    // Same era, same domain name: a recording of 0.9.11 replays for 0.9.12 where both send the same.
    expect(expandCells(matrix(), { libvirt: ["0.9.12"] })[0].instance).toEqual(cells.find((c) => c.libvirt === "0.9.11")!.instance);
  });

  it("parses cell ids and refuses malformed ones", () => {
    expect(parseCellId("4.1.2/0.8.7+rfc-localtime/hvm-a")).toEqual({ xend: "4.1.2", libvirt: "0.8.7+rfc-localtime", scenario: "hvm-a" });
    expect(() => parseCellId("4.1.2/hvm-a")).toThrow(/not a cell id/);
  });
});

describe("expectations of releases the matrix does not list", () => {
  it("a --libvirt release outside the matrix inherits the expectations of the matrix's release with the same profile", async () => {
    const { loadMatrix, fromRoot, DEFAULT_MATRIX } = await import("../harness/matrix/index.js");
    const m = loadMatrix(fromRoot(DEFAULT_MATRIX));
    const own = expandCells(m, { xend: ["3.4.3"], libvirt: ["0.9.11"], scenario: "hvm-utc-start" })[0];
    const sibling = expandCells(m, { xend: ["3.4.3"], libvirt: ["0.9.12"], scenario: "hvm-utc-start" })[0];
    expect(own.expectation?.verdict).toBe("changed");
    expect(sibling.expectation).toEqual(own.expectation);
    // A release of another profile does not inherit it.
    const other = expandCells(m, { xend: ["3.4.3"], libvirt: ["0.9.9"], scenario: "hvm-utc-start" })[0];
    expect(other.expectation).toBeUndefined();
  });
});
