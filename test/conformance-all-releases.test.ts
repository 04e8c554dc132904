/**
 * Every shipped release suite (fixtures/libvirt-tests/releases/<tag>/, 158 releases from v0.6.2 to
 * v4.5.0) through the profile of its own release, as `xend-compat conformance --libvirt <release>`
 * runs it: each release must resolve to a profile and pass every case its default build runs, byte for
 * byte as that release's drivers compare. A failing release names exactly which cases fail (and the
 * first diff). There is no allow-list: a release that does not pass fails here.
 *
 * Excluded from the default `npx vitest run` by RUN_ALL_RELEASE_SUITES in vitest.config.ts until every
 * release passes (the per-release profiles are being completed); run it with
 * `XEND_COMPAT_ALL_SUITES=1 npx vitest run test/conformance-all-releases.test.ts`. The measured table
 * comes from `xend-compat conformance --all`. Also here, for the same reason: matrices/releases.yaml loads
 * as it is (every release it lists resolves to a profile).
 */
import { describe, expect, it } from "vitest";
import { loadShippedSuite, runSuite, shippedTags } from "../harness/conformance/index.js";
import { resolveProfile } from "../harness/libvirt/index.js";
import { fromRoot, loadMatrix } from "../harness/matrix/index.js";

const tags = shippedTags();

describe("every shipped libvirt suite through its own release's profile", () => {
  it("the store holds the suites (v0.6.2 … v4.5.0)", () => {
    expect(tags.length).toBeGreaterThanOrEqual(158);
  });
  for (const tag of tags) {
    const libvirt = tag.slice(1);
    it(`libvirt ${libvirt} passes its own sexpr2xml and xml2sexpr suite (${tag})`, async () => {
      const profile = resolveProfile(libvirt);
      const suite = loadShippedSuite(tag)!;
      const run = await runSuite(profile, suite, libvirt);
      const failed = run.cases.filter((c) => c.ok === false);
      const names = failed.map((c) => `${c.direction} ${c.input} -> ${c.expected} (v${c.xendConfigVersion})`);
      expect(names, `profile ${profile.id} on ${tag}: ${failed.length} of ${run.cases.length} cases fail; first diff:\n${failed[0]?.diff ?? ""}`).toEqual([]);
      expect(run.cases.filter((c) => c.ok === true).length).toBeGreaterThan(0);
    });
  }
});

describe("every release of matrices/releases.yaml resolves to a profile", () => {
  it("matrices/releases.yaml loads as it is", () => {
    expect(loadMatrix(fromRoot("matrices/releases.yaml")).libvirt.length).toBeGreaterThanOrEqual(169);
  });
});
