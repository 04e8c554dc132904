import * as os from "node:os";
import * as path from "node:path";
import { configDefaults, defineConfig } from "vitest/config";

/**
 * test/conformance-all-releases.test.ts runs every shipped release suite (v0.6.2 … v4.5.0) through
 * its own release's profile. Every release passes (`xend-compat conformance --all`), so it is part of
 * the default run (it was left out while the per-release profiles were being completed).
 */
const RUN_ALL_RELEASE_SUITES = true;

const allSuites = RUN_ALL_RELEASE_SUITES || process.env.XEND_COMPAT_ALL_SUITES === "1";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "harness/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...(allSuites ? [] : ["test/conformance-all-releases.test.ts"])],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    // Compiled recording packs of the tests' temporary directories go to a cache of their own, not
    // the user's (harness/xend/pack.ts).
    env: { XEND_COMPAT_CACHE_DIR: process.env.XEND_COMPAT_CACHE_DIR ?? path.join(os.tmpdir(), "xend-compat-test-cache") },
  },
});
