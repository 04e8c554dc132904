/**
 * The CI helpers leave the machine as they found it: ci/containers.sh removes only the containers and
 * networks of its own run (label org.xend-compat.run=<XEND_COMPAT_RUN_ID>), never a developer's own
 * (testcontainers' or ours from another run), and stops no engine it did not start. Checked with a
 * fake `docker` on PATH that logs every call.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runLabel } from "../harness/container/backend.js";

const ROOT = path.resolve(import.meta.dirname, "..");

function fakeDocker(dir: string): string {
  const log = path.join(dir, "docker.log");
  const bin = path.join(dir, "docker");
  fs.writeFileSync(
    bin,
    `#!/bin/sh\necho "$*" >> ${JSON.stringify(log)}\ncase "$1" in\n  info) exit 0;;\n  ps) echo c1; echo c2;;\nesac\nexit 0\n`,
    { mode: 0o755 },
  );
  return log;
}

describe("ci/containers.sh clean-up", () => {
  it("removes only the containers and networks labelled with this run's id, and stops no engine it did not start", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-ci-"));
    const log = fakeDocker(dir);
    // XEND_COMPAT_NO_ENGINE: the setup (apt, dockerd) is skipped; the functions are defined.
    const r = spawnSync(
      "bash",
      ["-c", `source ci/containers.sh; echo "run=$XEND_COMPAT_RUN_ID"; xc_ct_cleanup`],
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, XEND_COMPAT_NO_ENGINE: "test", XEND_COMPAT_RUN_ID: "" } },
    );
    expect(r.status).toBe(0);
    const id = /run=(\S+)/.exec(r.stdout)?.[1];
    expect(id).toMatch(/^ci-\d+-\d+$/);
    const calls = fs.readFileSync(log, "utf8").trim().split("\n");
    const filters = calls.filter((c) => c.includes("--filter")).map((c) => /--filter (\S+)/.exec(c)?.[1]);
    expect(filters.length).toBeGreaterThan(0);
    for (const f of filters) expect(f).toBe(`label=org.xend-compat.run=${id}`);
    expect(calls.some((c) => c.startsWith("rm -f c1 c2"))).toBe(true);
    expect(r.stdout + r.stderr).not.toMatch(/dockerd .* stopped/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses to be run instead of sourced (it would tear down what it set up at once)", () => {
    const r = spawnSync("bash", ["ci/containers.sh"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("sourced by ci/test.sh");
  });
});

describe("container run label", () => {
  it("labels containers with XEND_COMPAT_RUN_ID when it is a plain identifier, and with nothing otherwise", () => {
    expect(runLabel({ XEND_COMPAT_RUN_ID: "ci-1-2" })).toEqual({ "org.xend-compat.run": "ci-1-2" });
    expect(runLabel({})).toEqual({});
    expect(runLabel({ XEND_COMPAT_RUN_ID: "a b;rm" })).toEqual({});
  });
});
