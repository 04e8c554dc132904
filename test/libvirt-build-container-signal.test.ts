/**
 * Ctrl-C during a `--build-in container` build: the command ends by the signal (130) and the build
 * container it started is gone, found by its own run label; nothing else is touched. Needs a Docker
 * engine and the build image (skipped with the reason otherwise; `xend-compat doctor` says how).
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildImageTag, engineAnswers } from "../harness/libvirt/build/index.js";

const noEngine = process.env.XEND_COMPAT_NO_ENGINE ? `no Docker engine: ${process.env.XEND_COMPAT_NO_ENGINE}` : await engineAnswers().then((r) => (r ? `no Docker engine answers (${r})` : null));
const noImage = noEngine
  ? null
  : (() => {
      try {
        execFileSync("docker", ["image", "inspect", buildImageTag()], { stdio: "ignore" });
        return null;
      } catch {
        return `the build image ${buildImageTag()} is not built here (it is built on a first --build-in container build; about a minute)`;
      }
    })();
const why = noEngine ?? noImage ?? "";

const labelled = (run: string) => execFileSync("docker", ["ps", "-aq", "--filter", `label=org.xend-compat.run=${run}`], { encoding: "utf8" }).trim();

describe.skipIf(Boolean(why))(`--build-in container and SIGINT${why ? ` (skipped: ${why})` : ""}`, () => {
  it("removes the build container it started and ends by the signal", { timeout: 120_000 }, async () => {
    const d = mkdtempSync(join(tmpdir(), "xc-sig-tree-"));
    writeFileSync(join(d, "configure.ac"), "AC_INIT([libvirt], [0.9.11], [list@example.org])\n");
    mkdirSync(join(d, "src", "xenxs"), { recursive: true });
    writeFileSync(join(d, "src", "xenxs", "xen_sxpr.c"), "/* stand-in */\n");
    mkdirSync(join(d, ".gnulib"));
    writeFileSync(join(d, ".gnulib", "gnulib-tool"), "#!/bin/sh\n");
    mkdirSync(join(d, "tests"));
    // A bootstrap that takes long enough to be interrupted (our stand-in, in the build copy).
    writeFileSync(join(d, "bootstrap"), "#!/bin/sh\necho stand-in bootstrap sleeping\nsleep 120\n");
    chmodSync(join(d, "bootstrap"), 0o755);
    const run = `sigtest-${process.pid}-${Date.now()}`;
    const child = spawn(process.execPath, ["--import", "tsx", "harness/cli-dev.ts", "--build-in", "container", "convert", "--libvirt", `src:${d}`, "--to", "sxpr", "fixtures/domains/pv-utc.xml"], {
      env: { ...process.env, XEND_COMPAT_RUN_ID: run, XEND_COMPAT_BUILD_CACHE: join(d, "..", `${run}-cache`) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })));
    // Wait for the bootstrap container (the phase after fix-source).
    const t0 = Date.now();
    while (!(err.includes("bootstrap ...") && labelled(run)) && Date.now() - t0 < 90_000) await new Promise((r) => setTimeout(r, 300));
    expect(labelled(run), err).not.toBe("");
    child.kill("SIGINT");
    const end = await exited;
    expect(String(end.signal ?? end.code)).toMatch(/^(SIGINT|130)$/);
    expect(labelled(run)).toBe("");
  });
});
