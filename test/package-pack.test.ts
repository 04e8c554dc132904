/**
 * What the published package carries (npm pack): what the tool needs at run time (the built CLI, the
 * default matrix and its fixtures, the sandbox's Python, the docs its reasons cite, the base-image
 * recipe of the container backend) and nothing of the development tree (tests, benches, CI, caches).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const haveDist = fs.existsSync(path.join(ROOT, "dist", "harness", "cli.js"));

describe.skipIf(!haveDist)(`npm pack${haveDist ? "" : " (skipped: no dist/ build; npm ci builds it)"}`, () => {
  const files = (): string[] => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
  };

  it("carries what the tool needs at run time and nothing of the development tree", () => {
    const f = files();
    for (const need of [
      "bin/xend-compat.mjs",
      "dist/harness/cli.js",
      "dist/harness/index.js",
      "matrices/default.yaml",
      "harness/sandbox/py/sandbox_main.py",
      "harness/sandbox/Dockerfile",
      "ci/base-images.sh",
      "docs/clock.md",
      "README.md",
      "LICENSE",
    ])
      expect(f, need).toContain(need);
    // The bundled command bin/xend-compat.mjs prefers (ci/bundle.mjs), when this build made one.
    if (fs.existsSync(path.join(ROOT, "dist", "bundle", "harness", "bin", "cli.js"))) expect(f).toContain("dist/bundle/harness/bin/cli.js");
    expect(f.some((p) => p.startsWith("fixtures/domains/"))).toBe(true);
    expect(f.some((p) => p.startsWith("fixtures/recordings/"))).toBe(true);
    expect(f.some((p) => p.startsWith("fixtures/golden/"))).toBe(true);
    const stray = f.filter((p) => /^(test|bench|\.ci|node_modules|test-artifacts)\/|\.test\.(ts|js)$|(^|\/)\.cache\//.test(p));
    expect(stray).toEqual([]);
  });

  it("every docs page the shipped matrices cite is in the package", () => {
    const f = new Set(files());
    for (const m of fs.readdirSync(path.join(ROOT, "matrices")).filter((x) => x.endsWith(".yaml"))) {
      for (const [, doc] of fs.readFileSync(path.join(ROOT, "matrices", m), "utf8").matchAll(/docs\/([\w.-]+\.md)/g)) expect(f, `${m} cites docs/${doc}`).toContain(`docs/${doc}`);
    }
  });

  it("declares testcontainers as optional (only the container backend needs it) and no unused tmp", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.optionalDependencies?.testcontainers).toBe("11.14.0");
    expect(pkg.dependencies?.testcontainers).toBeUndefined();
    expect(pkg.dependencies?.tmp).toBeUndefined();
  });
});
