/**
 * `--build-in container` with a real libvirt v0.9.11 tree (XEND_COMPAT_LIBVIRT_SRC_0_9_11) and a Docker
 * engine (skipped with the reason naming what is missing). On a scratch clone and an empty cache: the
 * build runs in the build image (built first when missing), passes the tree's own SXPR tests there,
 * leaves its files owned by this user, its driver runs on this host with the image's loader and
 * libraries, its own suite passes,
 * it converts every shipped domain exactly as the host build of the same tree does, and a one-line
 * change is rebuilt incrementally by the next command (a new process's profile: same copy, same path).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineAnswers, forgetSourceProfiles, inspectTree, makeBuiltProfile, missingPackages, runningBuildContainers, runSuite, suiteFromTree, type BuiltProfile } from "../harness/libvirt/build/index.js";
import { resolveProfile } from "../harness/libvirt/index.js";

const SRC = process.env.XEND_COMPAT_LIBVIRT_SRC_0_9_11;
const noTree = !SRC
  ? "XEND_COMPAT_LIBVIRT_SRC_0_9_11 is not set (a libvirt v0.9.11 checkout with its .gnulib)"
  : !existsSync(join(SRC, ".gnulib/gnulib-tool"))
    ? `XEND_COMPAT_LIBVIRT_SRC_0_9_11=${SRC} has no .gnulib`
    : "";
const noEngine = noTree ? null : process.env.XEND_COMPAT_NO_ENGINE ? `no Docker engine: ${process.env.XEND_COMPAT_NO_ENGINE}` : await engineAnswers().then((r) => (r ? `no Docker engine answers (${r})` : null));
const hostLacks = noTree || noEngine ? [] : missingPackages("0.9.11");
const why = noTree || noEngine || (hostLacks.length ? `the host build to compare with needs ${hostLacks.join(", ")}` : "");

const log = (l: string) => process.stderr.write(`[container build] ${l}\n`);
const modelId = (v: string) => resolveProfile(v).id;

describe.skipIf(Boolean(why))(`--build-in container with a real libvirt 0.9.11 tree${why ? ` (skipped: ${why})` : ""}`, () => {
  let work = "";
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "xc-cbuild-0911-"));
  });
  afterAll(() => {
    forgetSourceProfiles();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("builds in the image, passes its own tests there, converts like the host build, and rebuilds a one-line change", { timeout: 30 * 60_000 }, async () => {
    const tree = join(work, "libvirt");
    execFileSync("git", ["clone", "-q", "--shared", SRC!, tree]);
    cpSync(join(SRC!, ".gnulib"), join(tree, ".gnulib"), { recursive: true });
    const cEnv = { ...process.env, XEND_COMPAT_BUILD_IN: "container", XEND_COMPAT_BUILD_CACHE: join(work, "cache") };
    // The host build of the same tree (the user's tree, in the user's cache: incremental when built before).
    const hEnv = { ...process.env, XEND_COMPAT_BUILD_IN: "host" };

    const t0 = Date.now();
    const c = makeBuiltProfile(`src:${tree}`, "/", cEnv, modelId);
    await c.prepare(log);
    const first = (Date.now() - t0) / 1000;
    const b = c.built!.build;
    expect(b.place.where).toBe("container");
    expect(b.place.describe()).toMatch(/^in a container of xend-compat\/libvirt-build:bookworm-[0-9a-f]{12}$/);
    // The own-tests gate ran in the container and passed (a first build must pass it).
    const buildLog = readFileSync(b.logFile, "utf8");
    expect(buildLog).toMatch(/== sexpr2xmltest[\s\S]*51\s+OK[\s\S]*== xml2sexprtest[\s\S]*53\s+OK/);
    // The copy is this user's, at the same path the container used.
    expect(statSync(join(b.copy, "config.status")).uid).toBe(process.getuid!());
    expect(statSync(c.built!.driver.binary).uid).toBe(process.getuid!());
    expect(readFileSync(join(b.copy, "config.status"), "utf8")).toContain(b.copy);

    // The tree's own suite through the driver in the container.
    const suite = suiteFromTree(inspectTree(tree, "/"), join(work, "suite"));
    expect(suite.cases.length).toBe(51 + 53);
    const results = await runSuite(c, suite);
    expect(results.filter((r) => !r.pass).map((r) => `${r.case.input}: ${r.detail}`)).toEqual([]);
    // The driver runs on this host with the image's own loader and libraries (copied into the cache
    // directory); every build container is gone.
    const rt = JSON.parse(readFileSync(join(b.cacheDir, "runtime.json"), "utf8")) as { loader: string; elf: string };
    expect(rt.loader.startsWith(join(b.cacheDir, "runtime") + "/")).toBe(true);
    expect(rt.elf).toBe(c.built!.driver.binary);
    expect(runningBuildContainers()).toEqual([]);

    // Every shipped domain, both directions' first step (XML → SXPR) at two xend config versions, and back.
    const h = makeBuiltProfile(`src:${SRC}`, "/", hEnv, modelId);
    await h.prepare(log);
    expect(h.built!.build.place.where).toBe("host");
    const domains = readdirSync("fixtures/domains").filter((f) => f.endsWith(".xml"));
    expect(domains.length).toBeGreaterThan(10);
    const answer = async (p: BuiltProfile, f: () => Promise<string>) => f().then((t) => `ok ${t}`, (e: Error) => `err ${e.message}`);
    for (const d of domains) {
      const xml = readFileSync(join("fixtures/domains", d), "utf8");
      for (const v of [2, 4]) {
        const viaC = await answer(c, async () => (await c.format(xml, { xendConfigVersion: v })).sxpr);
        const viaH = await answer(h, async () => (await h.format(xml, { xendConfigVersion: v })).sxpr);
        expect([d, v, viaC]).toEqual([d, v, viaH]);
        if (viaC.startsWith("ok ")) {
          const back = await answer(c, async () => (await c.parse(viaC.slice(3), { xendConfigVersion: v })).xml);
          expect([d, v, back]).toEqual([d, v, await answer(h, async () => (await h.parse(viaH.slice(3), { xendConfigVersion: v })).xml)]);
        }
      }
    }
    const pvUtc = readFileSync("fixtures/domains/pv-utc.xml", "utf8");
    const before = (await h.format(pvUtc, { xendConfigVersion: 4 })).sxpr;
    expect(before.split("))(localtime 0)(device ").length).toBe(2);
    h.close();
    c.close();
    forgetSourceProfiles();

    // A one-line change: the next "command" (a fresh profile, as a new process makes) rebuilds in the
    // same copy, incrementally, and shows the change.
    const file = join(tree, "src/xenxs/xen_sxpr.c");
    const text = readFileSync(file, "utf8");
    const line = '\n    virBufferAsprintf(&buf, "(localtime %d)", vmlocaltime);\n';
    expect(text.split(line).length).toBe(2);
    writeFileSync(file, text.replace(line, "\n    /* xend-compat test: no top-level localtime */\n"));
    const t1 = Date.now();
    const r = makeBuiltProfile(`src:${tree}`, "/", cEnv, modelId);
    const after = (await r.format(pvUtc, { xendConfigVersion: 4 })).sxpr;
    const rebuild = (Date.now() - t1) / 1000;
    expect(r.built!.build.copy).toBe(b.copy);
    expect(Object.keys(r.built!.build.timings)).not.toContain("configure");
    expect(after).toBe(before.replace("))(localtime 0)(device ", "))(device "));
    r.close();
    forgetSourceProfiles();
    const phases = (t: Record<string, number>) => Object.entries(t).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ");
    log(`first build in the container ${first.toFixed(0)} s (${phases(b.timings)}); one-line change → next conversion ${rebuild.toFixed(1)} s (${phases(r.built!.build.timings)})`);
  });
});
