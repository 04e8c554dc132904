/**
 * Figure `build`: a user's libvirt tree as a profile (src:DIR), with the v0.9.11 tree named by
 * XEND_COMPAT_LIBVIRT_SRC_0_9_11 (or --libvirt-src DIR): the first build in an empty cache including
 * the tree's own SXPR tests (goal ≤ 4 min on 2 cores), the rebuild after a one-line change to the SXPR
 * formatter (goal ≤ 15 s), and conversions per second through the persistent driver (goal ≥ 5,000/s),
 * beside the model profile of the same release. Works on a scratch clone; the tree is never written.
 * --quick measures only the conversions (on the tree's build in the user's cache).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineAnswers, forgetSourceProfiles, resolveSourceProfile, type BuiltProfile } from "../../harness/libvirt/build/index.js";
import { resolveProfile } from "../../harness/libvirt/index.js";
import type { Figure } from "../report.js";

export async function buildFigure(opts: { quick: boolean; tree?: string; place?: "host" | "container" }): Promise<Figure> {
  const id = opts.place === "container" ? "build-container" : "build";
  const src = opts.tree ?? process.env.XEND_COMPAT_LIBVIRT_SRC_0_9_11;
  if (!src) return { id, skipped: "not measured: no tree (set XEND_COMPAT_LIBVIRT_SRC_0_9_11 to a libvirt v0.9.11 checkout with its .gnulib)" };
  if (!existsSync(join(src, ".gnulib", "gnulib-tool"))) return { id, skipped: `not measured: ${src} has no .gnulib` };
  if (opts.place === "container") {
    const noEngine = await engineAnswers();
    if (noEngine) return { id, skipped: `not measured: no Docker engine (${noEngine})` };
  }
  // Where the builds run: --build-in as given (the host figure forces host, so the two are comparable).
  const prevIn = process.env.XEND_COMPAT_BUILD_IN;
  process.env.XEND_COMPAT_BUILD_IN = opts.place ?? "host";
  try {
    return await measure(id, src, opts);
  } finally {
    if (prevIn === undefined) delete process.env.XEND_COMPAT_BUILD_IN;
    else process.env.XEND_COMPAT_BUILD_IN = prevIn;
  }
}

async function measure(id: "build" | "build-container", src: string, opts: { quick: boolean; place?: "host" | "container" }): Promise<Figure> {
  const where = opts.place === "container" ? " in the build image (--build-in container)" : "";
  const log = (l: string) => process.stderr.write(`bench build: ${l}\n`);
  const modelId = (v: string) => resolveProfile(v).id;
  const xmls = readdirSync("fixtures/domains")
    .filter((f) => f.endsWith(".xml"))
    .map((f) => readFileSync(join("fixtures/domains", f), "utf8"));
  const fmt = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
      .join(", ");

  const n = opts.quick ? 2000 : 10000;
  const model = resolveProfile("0.9.11");
  const rate = async (conv: (x: string) => unknown): Promise<number> => {
    const s = process.hrtime.bigint();
    const batch: unknown[] = [];
    for (let i = 0; i < n; i++) batch.push(conv(xmls[i % xmls.length]));
    await Promise.allSettled(batch);
    return n / (Number(process.hrtime.bigint() - s) / 1e9);
  };
  /** Conversions per second through the persistent driver of a prepared profile, beside the model. */
  const rates = async (p: BuiltProfile, ready: string) => {
    await rate((x) => p.format(x, { xendConfigVersion: 4 })); // warm
    const builtRate = await rate((x) => p.format(x, { xendConfigVersion: 4 }));
    const modelRate = await rate((x) => {
      try {
        return model.format(x, { xendConfigVersion: 4 });
      } catch {
        return null;
      }
    });
    const line = `persistent driver${opts.place === "container" ? " (the image's binary and libraries, run on this host)" : ""} ${Math.round(builtRate)} conversions/s vs model ${Math.round(modelRate)}/s (XML → SXPR, ${xmls.length} domains, ${n} conversions; goal ≥ 5,000/s)${ready}`;
    return { line, builtRate, modelRate };
  };

  // 1. Conversions per second on the tree itself (its build in the user's cache: built first if
  //    needed). The full container figure measures them on its scratch clone instead (step 2), so it
  //    does not add a container build of the tree to the user's cache.
  let t = Date.now();
  let first1: Awaited<ReturnType<typeof rates>> | null = null;
  if (opts.quick || opts.place !== "container") {
    forgetSourceProfiles();
    const p = resolveSourceProfile(`src:${src}`, modelId) as BuiltProfile;
    await p.prepare(log);
    first1 = await rates(p, `; build ready in ${((Date.now() - t) / 1000).toFixed(1)} s (cached)`);
    forgetSourceProfiles();
  }
  if (opts.quick)
    return { id, line: `libvirt 0.9.11 as src:DIR${where}: ${first1!.line}; first build and rebuild not measured (--quick; test/libvirt-build-src.test.ts prints both)`, data: { driverPerS: first1!.builtRate, modelPerS: first1!.modelRate, n } };

  // 2. First build of a scratch clone in an empty cache, then a one-line change and the next use.
  const work = mkdtempSync(join(tmpdir(), "xc-bench-build-"));
  const tree = join(work, "libvirt");
  const prevCache = process.env.XEND_COMPAT_BUILD_CACHE;
  process.env.XEND_COMPAT_BUILD_CACHE = join(work, "cache");
  try {
    mkdirSync(work, { recursive: true });
    execFileSync("git", ["clone", "-q", "--shared", src, tree]);
    cpSync(join(src, ".gnulib"), join(tree, ".gnulib"), { recursive: true });
    t = Date.now();
    const q = resolveSourceProfile(`src:${tree}`, modelId) as BuiltProfile;
    await q.prepare(log);
    const first = (Date.now() - t) / 1000;
    const firstPhases = { ...q.built!.build.timings };
    forgetSourceProfiles();
    const file = join(tree, "src/xenxs/xen_sxpr.c");
    const text = readFileSync(file, "utf8");
    // The top-level one (four spaces in; the image-level copy is indented deeper).
    const line = '\n    virBufferAsprintf(&buf, "(localtime %d)", vmlocaltime);\n';
    writeFileSync(file, text.replace(line, "\n    /* bench: no top-level localtime */\n"));
    t = Date.now();
    const r = resolveSourceProfile(`src:${tree}`, modelId) as BuiltProfile;
    await r.prepare(log);
    await r.format(xmls[0], { xendConfigVersion: 4 }).catch(() => null);
    const rebuild = (Date.now() - t) / 1000;
    const rebuildPhases = { ...r.built!.build.timings };
    const rr = first1 ?? (await rates(r, " (measured on the rebuilt scratch clone)"));
    return {
      id,
      line: `libvirt 0.9.11 as src:DIR${where}: first build ${first.toFixed(0)} s (${fmt(firstPhases)}; goal ≤ 240 s); one-line change → next conversion ${rebuild.toFixed(1)} s (${fmt(rebuildPhases)}; goal ≤ 15 s); ${rr.line}`,
      data: { firstBuildS: first, firstPhases, rebuildS: rebuild, rebuildPhases, driverPerS: rr.builtRate, modelPerS: rr.modelRate, n },
    };
  } finally {
    forgetSourceProfiles();
    if (prevCache === undefined) delete process.env.XEND_COMPAT_BUILD_CACHE;
    else process.env.XEND_COMPAT_BUILD_CACHE = prevCache;
    rmSync(work, { recursive: true, force: true });
  }
}
