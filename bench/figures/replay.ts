/**
 * Figures 1 (replay throughput and peak RSS), 2 (the floor and replay/floor), 5 (scaling) and 7 (the
 * full matrix on 2 cores): the default matrix, copies of it under new scenario ids, and every libvirt
 * release × every xend series × every scenario, replayed from the compiled recordings. Each in-process
 * repetition starts with nothing remembered (freshProcessState: no loaded pack, no memo), as a new `run`
 * process does; the pack itself is read from its cache, as by any run after the first.
 */
import { execa } from "execa";
import * as path from "node:path";
import { projectRoot } from "../../harness/matrix/index.js";
import { execute } from "../../harness/run/index.js";
import type { CellResult } from "../../harness/run/index.js";
import { fmtInt, fmtMB, fmtMs, fmtRatio, interleave, median } from "../stats.js";
import type { Figure } from "../report.js";
import { defaultMatrix, enlarge, freshProcessState, floor, floorFiles, fullMatrix, hasGoldens, makeGoldens, recordingsPresent, replay, summarize, summaryText } from "../workload.js";

export interface ReplayOptions {
  quick: boolean;
  recordingsDir: string;
  goldenDir: string;
  /** Which figures to produce. */
  want: { replay: boolean; floor: boolean; scaling: boolean; full: boolean };
}

const ENLARGED_MIN = 10_000;
const cps = (cells: number, ms: number) => (cells / ms) * 1000;

interface WorkerResult {
  cells: number;
  ms: number;
  cpuMs: number;
  maxRssBytes: number;
  summary: ReturnType<typeof summarize>;
}

/** bench/worker.ts in a process of its own (tsx), for part `part` of the cell set. */
async function worker(set: string, part: string, golden: string, recordingsDir: string): Promise<WorkerResult> {
  const root = projectRoot();
  const r = await execa(process.execPath, ["--import", "tsx", path.join(root, "bench", "worker.ts"), set, part, golden, recordingsDir], { cwd: root, reject: false });
  if (r.exitCode !== 0) throw new Error(`bench worker ${set} ${part} failed: ${r.stderr.split("\n").slice(0, 4).join(" ")}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as WorkerResult;
}

export async function replayFigures(o: ReplayOptions): Promise<Figure[]> {
  const { cells, matrix } = defaultMatrix();
  const present = recordingsPresent(o.recordingsDir, cells);
  const figs: Figure[] = [];
  if (present === 0) {
    const reason = `no recordings for the default matrix's ${cells.length} cells in ${o.recordingsDir} (the sandbox helper records them; re-run then)`;
    for (const id of ["replay", "floor", "scaling", "full"] as const) if (o.want[id]) figs.push({ id, skipped: reason });
    return figs;
  }

  // Goldens for the renamed copies and the full matrix (and for the default matrix when
  // fixtures/golden has none yet): written once by a replay with update into a temporary directory.
  const factorEnlarged = Math.ceil(ENLARGED_MIN / cells.length);
  const factorMax = o.want.scaling ? 100 : factorEnlarged;
  const big = enlarge(cells, factorMax);
  const full = o.want.full ? fullMatrix() : [];
  const tmpGold = await makeGoldens([...big.cells, ...full.filter((c) => !big.cells.some((b) => b.id === c.id))], o.recordingsDir);
  try {
    // fixtures/golden keeps the default matrix's goldens in its index (index/<matrix name>.tsv), as `run` reads them.
    const realGoldens = hasGoldens(o.goldenDir, cells, matrix.name);
    const defaultGoldenDir = realGoldens ? o.goldenDir : tmpGold.dir;
    const goldenNote = realGoldens ? "default goldens from fixtures/golden" : "fixtures/golden has none yet: goldens written by the bench to a temporary directory";
    const coverage = `${present} of ${cells.length} cells have a recording`;

    if (o.want.replay || o.want.floor) {
      // Default matrix: the execute() flow `run` uses (matrix load, expansion, replay, goldens,
      // obsolete-golden scan), against the floor of the same files.
      const reps = o.quick ? 7 : 21;
      const dFiles = floorFiles(cells, o.recordingsDir, defaultGoldenDir, realGoldens ? matrix.name : undefined);
      const d = await interleave(
        [
          {
            name: "replay",
            before: freshProcessState,
            run: async () =>
              (await execute({ cwd: process.cwd(), env: {}, golden: { update: false }, recordingsDir: o.recordingsDir, goldenDir: defaultGoldenDir })).results,
          },
          { name: "floor", run: () => floor(dFiles) },
        ],
        reps,
        2,
      );
      const dRes = d.get("replay")!.last as CellResult[];
      const dReplay = median(d.get("replay")!.ms);
      const dReplayCpu = median(d.get("replay")!.cpuMs);
      const dFloor = median(d.get("floor")!.ms);

      // Enlarged: ≥ 10,000 cells (the default matrix repeated under new ids), runCells directly.
      const e = enlarge(cells, factorEnlarged);
      const eFiles = floorFiles(e.cells, o.recordingsDir, tmpGold.dir);
      const eReps = o.quick ? 3 : 7;
      const en = await interleave(
        [
          { name: "replay", before: freshProcessState, run: () => replay(e.cells, o.recordingsDir, tmpGold.dir) },
          { name: "floor", run: () => floor(eFiles) },
        ],
        eReps,
        1,
      );
      const eRes = en.get("replay")!.last as CellResult[];
      const eReplay = median(en.get("replay")!.ms);
      const eReplayCpu = median(en.get("replay")!.cpuMs);
      const eFloor = median(en.get("floor")!.ms);
      // Peak RSS of the enlarged run, in a process of its own (this one holds the bench's own data).
      const rss = await worker(`x${factorEnlarged}`, "1/1", tmpGold.dir, o.recordingsDir);

      if (o.want.replay) {
        const speedMet = cps(cells.length, dReplay) >= 5000;
        const rssMet = rss.maxRssBytes <= 250 * 1024 * 1024;
        figs.push({
          id: "replay",
          line:
            `default ${cells.length} cells: ${fmtInt(cps(cells.length, dReplay))} cells/s wall, ${fmtInt(cps(cells.length, dReplayCpu))} per CPU-second (${fmtMs(dReplay)}/run, cpu ${fmtMs(dReplayCpu)}) | target ≥ 5,000 cells/s on one core: ${speedMet ? "met" : "missed"} | ` +
            `enlarged ${fmtInt(e.cells.length)} cells (${factorEnlarged}×, new ids, no recordings of their own): ${fmtInt(cps(e.cells.length, eReplay))} cells/s wall, ${fmtInt(cps(e.cells.length, eReplayCpu))} per CPU-second (${fmtMs(eReplay)}/run) | ` +
            `peak RSS of the enlarged run in its own process ${fmtMB(rss.maxRssBytes)} (replay ${fmtMs(rss.ms)}) | target ≤ 250 MB: ${rssMet ? "met" : "missed"} | ` +
            `medians of ${reps} and ${eReps} interleaved reps, nothing remembered each | ${coverage}; default ${summaryText(summarize(dRes))}; enlarged ${summaryText(summarize(eRes))}; ${goldenNote}`,
          data: {
            defaultCells: cells.length,
            defaultMs: dReplay,
            defaultCpuMs: dReplayCpu,
            defaultCellsPerSec: cps(cells.length, dReplay),
            defaultCellsPerCpuSec: cps(cells.length, dReplayCpu),
            speedTargetMet: speedMet,
            enlargedCells: e.cells.length,
            enlargedMs: eReplay,
            enlargedCpuMs: eReplayCpu,
            enlargedCellsPerSec: cps(e.cells.length, eReplay),
            enlargedPeakRssBytes: rss.maxRssBytes,
            rssTargetMet: rssMet,
            reps: { default: reps, enlarged: eReps },
            recordingsPresent: present,
            defaultSummary: summarize(dRes),
            enlargedSummary: summarize(eRes),
            goldens: realGoldens ? "fixtures" : "temporary",
          },
        });
      }
      if (o.want.floor) {
        const met = dReplay / dFloor <= 3;
        figs.push({
          id: "floor",
          line:
            `default: floor ${fmtMs(dFloor)} vs replay ${fmtMs(dReplay)} = ${fmtRatio(dReplay / dFloor)} | target ≤ 3×: ${met ? "met" : "missed"} | ` +
            `enlarged: floor ${fmtMs(eFloor)} vs replay ${fmtMs(eReplay)} = ${fmtRatio(eReplay / eFloor)} | ` +
            `floor = read the compiled recordings (one JSON.parse of the pack, as replay does) + read the goldens a replay reads (the matrix's golden index and each object it names; one file per cell without an index) | medians of ${reps} and ${eReps} interleaved reps`,
          data: { defaultFloorMs: dFloor, defaultRatio: dReplay / dFloor, targetMet: met, enlargedFloorMs: eFloor, enlargedRatio: eReplay / eFloor },
        });
      }
    }

    if (o.want.full) {
      // Every release × every series × every scenario, on 2 cores: two processes, each half the cells.
      const t0 = performance.now();
      const parts = await Promise.all([worker("full", "1/2", tmpGold.dir, o.recordingsDir), worker("full", "2/2", tmpGold.dir, o.recordingsDir)]);
      const wall = performance.now() - t0;
      const n = parts.reduce((a, p) => a + p.cells, 0);
      const replayMs = Math.max(...parts.map((p) => p.ms));
      const verdicts: Record<string, number> = {};
      for (const p of parts) for (const [k, v] of Object.entries(p.summary.verdicts)) verdicts[k] = (verdicts[k] ?? 0) + v;
      const releases = new Set(full.map((c) => c.libvirt)).size;
      const xends = new Set(full.map((c) => c.xend)).size;
      const scenarios = new Set(full.map((c) => c.scenario.id)).size;
      const conversations = new Set(full.map((c) => `${c.xend}/${c.profileId}/${c.scenario.id}`)).size;
      const met = wall < 10_000;
      figs.push({
        id: "full",
        line:
          `${fmtInt(n)} cells (${releases} libvirt releases × ${xends} xend series × ${scenarios} scenarios; ${conversations} distinct conversations) on 2 cores (2 processes): ` +
          `${fmtMs(wall)} wall including process start and matrix load (replay ${fmtMs(replayMs)}, ${fmtInt(cps(n, replayMs))} cells/s) | target < 10 s: ${met ? "met" : "missed"} | ` +
          `peak RSS ${parts.map((p) => fmtMB(p.maxRssBytes)).join(" + ")} | verdicts ${Object.entries(verdicts).map(([k, v]) => `${v} ${k}`).join(", ")}`,
        data: { cells: n, releases, xends, scenarios, conversations, wallMs: wall, replayMs, targetMet: met, parts },
      });
    }

    if (o.want.scaling) {
      const factors = [1, 10, 100];
      const sets = factors.map((f) => enlarge(cells, f));
      const reps = o.quick ? 3 : 5;
      const s = await interleave(
        sets.map((set, i) => ({ name: `${factors[i]}x`, before: freshProcessState, run: () => replay(set.cells, o.recordingsDir, tmpGold.dir) })),
        reps,
        1,
      );
      const ms = factors.map((f) => median(s.get(`${f}x`)!.ms));
      const cpu = factors.map((f) => median(s.get(`${f}x`)!.cpuMs));
      const perCell = sets.map((set, i) => ms[i] / set.cells.length);
      const perCellCpu = sets.map((set, i) => cpu[i] / set.cells.length);
      const flat = perCell[2] / perCell[0] <= 1.25 && perCell[1] / perCell[0] <= 1.25;
      figs.push({
        id: "scaling",
        line:
          factors.map((f, i) => `${f}× ${fmtInt(sets[i].cells.length)} cells: ${fmtMs(ms[i])} (${fmtMs(perCell[i])}/cell, cpu ${fmtMs(perCellCpu[i])}/cell)`).join(" | ") +
          ` | per-cell cost 10×/1× ${fmtRatio(perCell[1] / perCell[0])}, 100×/1× ${fmtRatio(perCell[2] / perCell[0])} (cpu ${fmtRatio(perCellCpu[1] / perCellCpu[0])}, ${fmtRatio(perCellCpu[2] / perCellCpu[0])}) | target flat (≤ 1.25×): ${flat ? "met" : "missed"} | ` +
          `copies send the same conversations under new cell ids | medians of ${reps} interleaved reps`,
        data: { factors, cells: sets.map((x) => x.cells.length), ms, cpuMs: cpu, perCellMs: perCell, perCellCpuMs: perCellCpu, reps, targetMet: flat },
      });
    }
  } finally {
    tmpGold.dispose();
  }
  return figs;
}
