/**
 * Figure 6, sandbox: the real xend of a Xen tree under Python 2.7 (harness/sandbox). Time to start
 * one xend; cells per second against it with 1, 2 and 4 cells at once; the whole default matrix
 * against three sandboxes started in parallel. Needs Xen trees (XEND_COMPAT_XEN_SRC_<V> or
 * --xen-src V=DIR); without them, one skip line with the reason.
 */
import { performance } from "node:perf_hooks";
import type { Cell } from "../../harness/matrix/index.js";
import { runCells } from "../../harness/run/index.js";
import type { Backend } from "../../harness/xend/index.js";
import type { Figure } from "../report.js";
import { fmtMs, interleave, median } from "../stats.js";
import { defaultMatrix, summarize, summaryText } from "../workload.js";

interface SandboxModule {
  startSandbox(opts: { xenSrc: string; xendVersion: string; concurrency?: number; timeoutMs?: number }): Promise<Backend>;
}

export const XEN_ENV: Record<string, string> = {
  "3.2": "XEND_COMPAT_XEN_SRC_3_2",
  "3.4.3": "XEND_COMPAT_XEN_SRC_3_4_3",
  "4.1.2": "XEND_COMPAT_XEN_SRC_4_1_2",
};

/** Xen trees by xend version: --xen-src V=DIR first, then the environment. */
export function xenTrees(flags: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [v, name] of Object.entries(XEN_ENV)) if (env[name]) out[v] = env[name]!;
  for (const f of flags) {
    const i = f.indexOf("=");
    if (i <= 0) throw new Error(`--xen-src '${f}': expected V=DIR, e.g. 4.1.2=/work/xen-trees/4.1.2`);
    out[f.slice(0, i)] = f.slice(i + 1);
  }
  return out;
}

function cps(cells: number, ms: number): string {
  return `${((cells / ms) * 1000).toFixed(1)} cells/s`;
}

export async function sandboxFigure(o: { quick: boolean; trees: Record<string, string>; timeoutMs?: number }): Promise<Figure> {
  const versions = Object.keys(o.trees);
  if (!versions.length)
    return { id: "sandbox", skipped: `no Xen trees (set ${Object.values(XEN_ENV).join(", ")}, or pass --xen-src V=DIR)` };
  let mod: SandboxModule;
  try {
    mod = (await import("../../harness/sandbox/index.js")) as unknown as SandboxModule;
  } catch (e) {
    return { id: "sandbox", skipped: `harness/sandbox cannot be loaded: ${(e as Error).message}` };
  }
  const start = (v: string, concurrency = 4) =>
    mod.startSandbox({ xenSrc: o.trees[v], xendVersion: v, concurrency, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
  const { cells } = defaultMatrix();
  const v0 = versions.includes("4.1.2") ? "4.1.2" : versions[0];
  const parts: string[] = [];
  const data: Record<string, unknown> = { trees: o.trees, version: v0 };

  // 1. Start (until xend answers GET /xend/node/) and stop one xend.
  const startReps = o.quick ? 1 : 3;
  const startMs: number[] = [];
  const closeMs: number[] = [];
  for (let i = 0; i < startReps; i++) {
    const t0 = performance.now();
    const b = await start(v0);
    const t1 = performance.now();
    await b.close();
    startMs.push(t1 - t0);
    closeMs.push(performance.now() - t1);
  }
  parts.push(`start one xend ${v0}: ${fmtMs(median(startMs))} (stop ${fmtMs(median(closeMs))}; median of ${startReps})`);
  data.startMs = median(startMs);
  data.stopMs = median(closeMs);

  // 2. One xend, its version's cells with 1, 2 and 4 at once (interleaved; one sandbox serves all).
  const mine: Cell[] = cells.filter((c) => c.xend === v0);
  const b = await start(v0, 4);
  try {
    const reps = o.quick ? 1 : 2;
    const levels = [1, 2, 4];
    const s = await interleave(
      levels.map((c) => ({ name: String(c), run: () => runCells(mine, { backendFor: async () => b, concurrency: c, closeBackends: false }) })),
      reps,
      0,
    );
    const per = levels.map((c) => {
      const ms = median(s.get(String(c))!.ms);
      return { c, ms, sum: summarize(s.get(String(c))!.last as Awaited<ReturnType<typeof runCells>>) };
    });
    parts.push(
      `${mine.length} cells of ${v0} at 1/2/4 at once: ` +
        per.map((p) => `${cps(mine.length, p.ms)} (${fmtMs(p.ms)})`).join(" / ") +
        ` = ${(per[1].ms > 0 ? per[0].ms / per[1].ms : NaN).toFixed(2)}× / ${(per[0].ms / per[2].ms).toFixed(2)}× of 1 (median of ${reps}; ${summaryText(per[0].sum)})`,
    );
    data.concurrency = per.map((p) => ({ concurrent: p.c, ms: p.ms, cellsPerSec: (mine.length / p.ms) * 1000, summary: p.sum }));
  } finally {
    await b.close();
  }

  // 3. The default matrix against one sandbox per version, all started in parallel.
  const have = [...new Set(cells.map((c) => c.xend))].filter((v) => o.trees[v]);
  const all = cells.filter((c) => have.includes(c.xend));
  const t0 = performance.now();
  const backends = new Map<string, Backend>();
  try {
    const started = await Promise.allSettled(have.map((v) => start(v, 4).then((bk) => [v, bk] as const)));
    for (const r of started) if (r.status === "fulfilled") backends.set(r.value[0], r.value[1]);
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const t1 = performance.now();
    const res = await runCells(all, { backendFor: async (v) => backends.get(v)!, concurrency: 4 * have.length, closeBackends: false });
    const t2 = performance.now();
    parts.push(
      `default matrix on ${have.length} sandboxes (${have.join(", ")}) started in parallel: ${all.length} cells in ${fmtMs(t2 - t0)} ` +
        `(start ${fmtMs(t1 - t0)}, cells ${fmtMs(t2 - t1)} = ${cps(all.length, t2 - t1)}; once; ${summaryText(summarize(res))})` +
        (have.length < 3 ? ` (no tree for ${[...new Set(cells.map((c) => c.xend))].filter((v) => !o.trees[v]).join(", ")})` : ""),
    );
    data.parallel = { versions: have, cells: all.length, totalMs: t2 - t0, startMs: t1 - t0, cellsMs: t2 - t1, summary: summarize(res) };
  } finally {
    for (const bk of backends.values()) await bk.close().catch(() => {});
  }
  return { id: "sandbox", line: parts.join(" | "), data };
}
