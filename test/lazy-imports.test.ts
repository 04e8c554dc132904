/**
 * Lazy imports: a table run of the default matrix never loads the HTML reporter, the container
 * backend, testcontainers, the sandbox or the live backend (module-load tracing through node:module
 * hooks, bench/load-trace/). The same check with --reporter html loads the HTML reporter, so the
 * trace can fail.
 */
import { execa } from "execa";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");

async function loaded(args: string[]): Promise<string[]> {
  const r = await execa(process.execPath, ["--import", "tsx", "--import", "./bench/load-trace/register.mjs", "harness/cli-dev.ts", ...args], {
    cwd: ROOT,
    reject: false,
    env: { NO_COLOR: "1", CI: "" },
  });
  expect(r.exitCode, r.stderr.split("\n").filter((l) => !l.startsWith("xend-compat-load")).join("\n")).toBeLessThan(2);
  return r.stderr
    .split("\n")
    .filter((l) => l.startsWith("xend-compat-load "))
    .map((l) => l.slice("xend-compat-load ".length).replace(`file://${ROOT}/`, ""));
}

const HEAVY = [/harness\/report\/html\./, /harness\/container\//, /node_modules\/testcontainers\//, /harness\/sandbox\//, /harness\/live\//, /node_modules\/playwright/];

describe("lazy imports", () => {
  it("a table run loads none of the HTML, container, sandbox or live code", async () => {
    const mods = await loaded(["run", "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-utc"]);
    expect(mods.some((m) => m.includes("harness/run/"))).toBe(true);
    expect(mods.filter((m) => HEAVY.some((h) => h.test(m)))).toEqual([]);
  }, 60_000);

  it("--reporter html does load the HTML reporter (the trace sees it)", async () => {
    const mods = await loaded(["run", "--xend", "4.1.2", "--libvirt", "0.9.11", "--scenario", "pv-utc", "--reporter", "html", "--out", path.join(os.tmpdir(), `xc-lazy-${process.pid}.html`)]);
    expect(mods.some((m) => /harness\/report\/html\./.test(m))).toBe(true);
  }, 60_000);
});
