import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("the package's one entry point", () => {
  it("package.json points main, types and exports at the compiled harness/index", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    expect(pkg.main).toBe("dist/harness/index.js");
    expect(pkg.types).toBe("dist/harness/index.d.ts");
    expect(pkg.exports["."]).toBe("./dist/harness/index.js");
  });

  it("harness/index exports what a program driving the harness needs", async () => {
    const api = await import("../harness/index.js");
    for (const name of ["loadMatrix", "expandCells", "resolveProfile", "createBackend", "startSandbox", "runCells", "execute", "render", "main", "readSxpr", "HarnessError", "runSuite", "loadSuiteDir", "loadShippedSuite", "groupSupport"]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe("function");
    }
    const p = api.resolveProfile("0.9.10");
    expect(p.id).toBe("0.9.10");
  });
});
