/**
 * The table of libvirt changes (harness/libvirt/releases.ts) and version resolution: every release
 * resolves to its own profile read from the table, anything else is refused naming the nearest releases.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { CHANGES, RELEASES, changesBetween, gatesAt, has, resolveProfile } from "../harness/libvirt/index.js";
import { renderChangesMarkdown } from "../harness/libvirt/releases.js";
import { HarnessError } from "../harness/errors.js";

describe("the table of libvirt changes", () => {
  it("names each gate once, with a release that is modelled and a short commit hash", () => {
    expect(new Set(CHANGES.map((c) => c.gate)).size).toBe(CHANGES.length);
    for (const c of CHANGES) {
      expect(RELEASES, c.gate).toContain(c.since);
      expect(c.commit, c.gate).toMatch(/^[0-9a-f]{9}$/);
      if (c.until) expect(RELEASES).toContain(c.until);
    }
  });

  it("is what docs/libvirt-releases.md shows (regenerate the block between its markers from renderChangesMarkdown)", () => {
    const doc = readFileSync("docs/libvirt-releases.md", "utf8");
    const block = doc.slice(doc.indexOf("<!-- generated:changes:begin -->\n") + "<!-- generated:changes:begin -->\n".length, doc.indexOf("<!-- generated:changes:end -->"));
    expect(block).toBe(renderChangesMarkdown());
  });

  it("reads a gate at a release: off before it, on from it (a regression only until its fix)", () => {
    expect(has("0.9.11", "vcpu-placement")).toBe(false);
    expect(has("0.9.12", "vcpu-placement")).toBe(true);
    expect(has("0.9.11.10", "vcpu-placement")).toBe(false);
    expect(has("1.2.0", "xend-reply-unparsable")).toBe(false);
    expect(has("1.2.1", "xend-reply-unparsable")).toBe(true);
    expect(has("1.2.2", "xend-reply-unparsable")).toBe(false);
    expect(changesBetween("1.2.3", "1.2.4").map((c) => c.gate)).toEqual(["backing-store"]);
    expect(gatesAt("0.6.1")).toEqual([]);
    expect(gatesAt("0.8.2")).toEqual(["top-level-localtime", "disk-insert", "sound-duplicates", "clock-offset-enum", "clock-timers", "chr-server-nowait"]);
  });
});

describe("resolveProfile", () => {
  it("gives every release its own profile, with or without a leading v, four-part versions included", () => {
    for (const r of RELEASES) expect(resolveProfile(r).id).toBe(r);
    expect(resolveProfile("v0.9.11.3").id).toBe("0.9.11.3");
    expect(resolveProfile("1.1.3").era).toBe("0.9.11-1.3.0");
  });

  it("keeps the era ids as aliases of the release that pinned them, and the patch profile", () => {
    expect(resolveProfile("0.9.11-1.3.0").id).toBe("0.9.11");
    expect(resolveProfile("1.3.1-5.5.0").id).toBe("4.5.0");
    expect(resolveProfile("0.8.7+rfc-localtime").patch?.name).toBe("rfc-localtime");
  });

  it("refuses anything else with exit-2 input.version errors naming the nearest releases", () => {
    const refusal = (v: string) => {
      try {
        resolveProfile(v);
      } catch (e) {
        expect(e).toBeInstanceOf(HarnessError);
        expect((e as HarnessError).code).toBe("input.version");
        return (e as Error).message;
      }
      throw new Error(`${v} was accepted`);
    };
    expect(refusal("0.9.11.11")).toMatch(/nearest known releases: 0\.9\.11\.10, 0\.9\.12/);
    expect(refusal("1.2.9.4")).toMatch(/nearest known releases: 1\.2\.9\.3, 1\.2\.10/);
    expect(refusal("0.5.1")).toMatch(/older than every modelled release/);
    expect(refusal("5.6.0")).toMatch(/removed its xend SXPR code in 5\.6\.0/);
    expect(refusal("0.8.7+rfc-localtime+/../..")).toMatch(/is not a libvirt version/);
    expect(refusal("0.8.7+rfc-other")).toMatch(/unknown libvirt patch profile/);
    expect(refusal("0.9.11x")).toMatch(/not a libvirt version/);
    expect(refusal("0.9.11.3.1")).toMatch(/not a libvirt version/);
  });

  it("1.2.1 cannot talk to xend: the profile says why, with the commit", () => {
    const p = resolveProfile("1.2.1");
    expect(p.unusable?.commit).toBe("df36af589");
    expect(p.unusable?.reason).toMatch(/failed to parse Xend response return code/);
    expect(resolveProfile("1.2.2").unusable).toBeUndefined();
  });

  it("reads the wire encoding from the table", () => {
    expect(resolveProfile("0.9.6").wire).toBe("uri");
    expect(resolveProfile("0.9.4").wire).toBe("raw");
  });
});
