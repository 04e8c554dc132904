import { configDefaults, defineConfig } from "vitest/config";

/**
 * test/conformance-all-releases.test.ts runs every shipped release suite (v0.6.2 … v4.5.0) through
 * its own release's profile. It is red until a profile exists for every release (issue 11), so it is
 * left out of the default run: flip this to true when `xend-compat conformance --all` passes, or run
 * it on demand with XEND_COMPAT_ALL_SUITES=1 (README, "Conformance").
 */
const RUN_ALL_RELEASE_SUITES = false;

const allSuites = RUN_ALL_RELEASE_SUITES || process.env.XEND_COMPAT_ALL_SUITES === "1";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "harness/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...(allSuites ? [] : ["test/conformance-all-releases.test.ts"])],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
  },
});
