/**
 * Figure `wire`: the default matrix on a src: build against the sandbox, with the tree's own xend
 * client on the wire (`--wire native`) and ours (`--wire ours`) side by side: the libvirt v0.9.11 tree
 * of XEND_COMPAT_LIBVIRT_SRC_0_9_11 (or --libvirt-src DIR), built in the user's cache if needed, and one
 * sandbox per xend version of the default matrix that has a Xen tree, started once and shared by both
 * variants (interleaved repetitions, median). Also counts the cells whose verdicts differ between the
 * two wires (should be none). Without a tree or Xen trees: one "not measured" line with the reason.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { forgetSourceProfiles, prepareProfiles, resolveSourceProfile, type BuiltProfile } from "../../harness/libvirt/build/index.js";
import { resolveProfile } from "../../harness/libvirt/index.js";
import { expandCells } from "../../harness/matrix/index.js";
import { runCells } from "../../harness/run/index.js";
import type { CellResult } from "../../harness/run/types.js";
import type { Backend } from "../../harness/xend/index.js";
import type { Figure } from "../report.js";
import { fmtMs, interleave, median } from "../stats.js";
import { defaultMatrix } from "../workload.js";
import { XEN_ENV } from "./sandbox.js";

interface SandboxModule {
  startSandbox(opts: { xenSrc: string; xendVersion: string; concurrency?: number; timeoutMs?: number }): Promise<Backend>;
}

export async function wireFigure(o: { quick: boolean; trees: Record<string, string>; tree?: string; timeoutMs?: number }): Promise<Figure> {
  const src = o.tree ?? process.env.XEND_COMPAT_LIBVIRT_SRC_0_9_11;
  if (!src) return { id: "wire", skipped: "not measured: no tree (set XEND_COMPAT_LIBVIRT_SRC_0_9_11 to a libvirt v0.9.11 checkout with its .gnulib)" };
  if (!existsSync(join(src, ".gnulib", "gnulib-tool"))) return { id: "wire", skipped: `not measured: ${src} has no .gnulib` };
  const { matrix } = defaultMatrix();
  const versions = matrix.xend.filter((v) => o.trees[v]);
  if (!versions.length) return { id: "wire", skipped: `not measured: no Xen trees for the default matrix's xends (set ${matrix.xend.map((v) => XEN_ENV[v] ?? v).join(", ")})` };
  const mod = (await import("../../harness/sandbox/index.js")) as unknown as SandboxModule;
  const spec = `src:${src}`;
  forgetSourceProfiles();
  const p = resolveSourceProfile(spec, (v) => resolveProfile(v).id) as BuiltProfile;
  await prepareProfiles([p], (l) => process.stderr.write(`bench wire: ${l}\n`));
  const cells = expandCells(matrix, { xend: versions, libvirt: [spec] });
  const backends = new Map<string, Backend>();
  try {
    const started = await Promise.allSettled(
      versions.map((v) => mod.startSandbox({ xenSrc: o.trees[v], xendVersion: v, concurrency: 4, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) }).then((b) => [v, b] as const)),
    );
    for (const r of started) if (r.status === "fulfilled") backends.set(r.value[0], r.value[1]);
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const run = (wire: "native" | "ours") => () =>
      runCells(cells, { backendFor: async (v) => backends.get(v)!, concurrency: 4 * versions.length, closeBackends: false, wireFor: () => wire });
    const reps = o.quick ? 1 : 3;
    const s = await interleave([{ name: "native", run: run("native") }, { name: "ours", run: run("ours") }], reps, 0);
    const nat = s.get("native")!;
    const ours = s.get("ours")!;
    const nMs = median(nat.ms);
    const oMs = median(ours.ms);
    const nRes = nat.last as CellResult[];
    const oRes = new Map((ours.last as CellResult[]).map((r) => [r.id, r]));
    const differ = nRes.filter((r) => oRes.get(r.id)?.verdict !== r.verdict).map((r) => r.id);
    const errors = nRes.filter((r) => r.verdict === "error").length + [...oRes.values()].filter((r) => r.verdict === "error").length;
    const rate = (ms: number) => `${((cells.length / ms) * 1000).toFixed(1)} cells/s`;
    const line =
      `default matrix on libvirt ${p.tree.version} as ${spec} against ${versions.length} sandbox(es) (${versions.join(", ")}), ${cells.length} cells: ` +
      `--wire native ${fmtMs(nMs)} (${rate(nMs)}) vs --wire ours ${fmtMs(oMs)} (${rate(oMs)}) = ${(nMs / oMs).toFixed(2)}× ` +
      `(median of ${reps}, interleaved; verdicts differing between the wires: ${differ.length ? differ.join(", ") : "none"}; errors ${errors})` +
      (versions.length < matrix.xend.length ? ` (no Xen tree for ${matrix.xend.filter((v) => !o.trees[v]).join(", ")})` : "");
    return { id: "wire", line, data: { spec, versions, cells: cells.length, nativeMs: nMs, oursMs: oMs, ratio: nMs / oMs, differ, errors, reps } };
  } finally {
    for (const b of backends.values()) await b.close().catch(() => {});
    forgetSourceProfiles();
  }
}
