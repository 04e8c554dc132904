/**
 * Figures 1 (replay throughput), 2 (the floor and replay/floor) and 5 (scaling): the default matrix
 * and copies of it replayed in-process from the recordings, each repetition with an empty recording
 * cache and nothing else remembered (as a new `run` process has; freshProcessState), interleaved with the floor.
 */
import { execute } from "../../harness/run/index.js";
import type { CellResult } from "../../harness/run/index.js";
import { fmtInt, fmtMB, fmtMs, fmtRatio, interleave, median } from "../stats.js";
import type { Figure } from "../report.js";
import { defaultMatrix, enlarge, freshProcessState, floor, floorFiles, hasGoldens, makeGoldens, recordingsPresent, replay, summarize, summaryText } from "../workload.js";

export interface ReplayOptions {
  quick: boolean;
  recordingsDir: string;
  goldenDir: string;
  /** Which of the three figures to produce. */
  want: { replay: boolean; floor: boolean; scaling: boolean };
}

const ENLARGED_MIN = 10_000;

/** The process's peak resident set size so far, in bytes. */
function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

const cps = (cells: number, ms: number) => (cells / ms) * 1000;

export async function replayFigures(o: ReplayOptions): Promise<Figure[]> {
  const { cells } = defaultMatrix();
  const present = recordingsPresent(o.recordingsDir, cells);
  const figs: Figure[] = [];
  if (present === 0) {
    const reason = `no recordings for the default matrix's ${cells.length} cells in ${o.recordingsDir} (the sandbox helper records them; re-run then)`;
    for (const id of ["replay", "floor", "scaling"] as const) if (o.want[id]) figs.push({ id, skipped: reason });
    return figs;
  }

  // Goldens for the renamed copies (and for the default matrix when fixtures/golden has none yet):
  // written once by a replay with update into a temporary directory, then compared against.
  const factorEnlarged = Math.ceil(ENLARGED_MIN / cells.length);
  const factorMax = o.want.scaling ? 100 : factorEnlarged;
  const big = enlarge(cells, factorMax);
  const tmpGold = await makeGoldens(big.cells, o.recordingsDir, big.alias);
  try {
    const realGoldens = hasGoldens(o.goldenDir, cells);
    const defaultGoldenDir = realGoldens ? o.goldenDir : tmpGold.dir;
    const goldenNote = realGoldens ? "default goldens from fixtures/golden" : "fixtures/golden has none yet: goldens written by the bench to a temporary directory";
    const coverage = `${present} of ${cells.length} cells have a recording`;

    if (o.want.replay || o.want.floor) {
      // Default matrix: the execute() flow `run` uses (matrix load, expansion, replay, goldens,
      // obsolete-golden scan), against the floor of the same files.
      const reps = o.quick ? 7 : 21;
      const dFiles = floorFiles(cells, o.recordingsDir, defaultGoldenDir);
      const rssBefore = peakRss();
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
      const eFiles = floorFiles(e.cells, o.recordingsDir, tmpGold.dir, e.alias);
      const eDistinct = floorFiles(e.cells, o.recordingsDir, tmpGold.dir, e.alias, "distinct");
      const eReps = o.quick ? 3 : 7;
      const en = await interleave(
        [
          { name: "replay", before: freshProcessState, run: () => replay(e.cells, o.recordingsDir, tmpGold.dir, e.alias) },
          { name: "floor", run: () => floor(eFiles) },
          { name: "floor-distinct", run: () => floor(eDistinct) },
        ],
        eReps,
        1,
      );
      const eRes = en.get("replay")!.last as CellResult[];
      const eReplay = median(en.get("replay")!.ms);
      const eReplayCpu = median(en.get("replay")!.cpuMs);
      const eFloor = median(en.get("floor")!.ms);
      const eFloorDistinct = median(en.get("floor-distinct")!.ms);
      const peak = peakRss();

      if (o.want.replay) {
        const met = cps(e.cells.length, eReplay) >= 5000 && cps(cells.length, dReplay) >= 5000;
        figs.push({
          id: "replay",
          line:
            `default ${cells.length} cells: ${fmtInt(cps(cells.length, dReplay))} cells/s wall, ${fmtInt(cps(cells.length, dReplayCpu))} per CPU-second (${fmtMs(dReplay)}/run, cpu ${fmtMs(dReplayCpu)}) | ` +
            `enlarged ${fmtInt(e.cells.length)} cells (${factorEnlarged}×): ${fmtInt(cps(e.cells.length, eReplay))} cells/s wall, ${fmtInt(cps(e.cells.length, eReplayCpu))} per CPU-second (${fmtMs(eReplay)}/run, cpu ${fmtMs(eReplayCpu)}) | ` +
            `peak RSS ${fmtMB(peak)} (${fmtMB(rssBefore)} before) | target ≥ 5,000 cells/s on one core: ${met ? "met" : "missed"} | ` +
            `medians of ${reps} and ${eReps} interleaved reps, empty recording cache and no memo each | ${coverage}; default ${summaryText(summarize(dRes))}; enlarged ${summaryText(summarize(eRes))}; ${goldenNote}`,
          data: {
            defaultCells: cells.length,
            defaultMs: dReplay,
            defaultCpuMs: dReplayCpu,
            defaultCellsPerSec: cps(cells.length, dReplay),
            defaultCellsPerCpuSec: cps(cells.length, dReplayCpu),
            enlargedCells: e.cells.length,
            enlargedMs: eReplay,
            enlargedCpuMs: eReplayCpu,
            enlargedCellsPerSec: cps(e.cells.length, eReplay),
            enlargedCellsPerCpuSec: cps(e.cells.length, eReplayCpu),
            peakRssBytes: peak,
            rssBeforeBytes: rssBefore,
            reps: { default: reps, enlarged: eReps },
            recordingsPresent: present,
            defaultSummary: summarize(dRes),
            enlargedSummary: summarize(eRes),
            goldens: realGoldens ? "fixtures" : "temporary",
          },
        });
      }
      if (o.want.floor) {
        const met = dReplay / dFloor <= 3 && eReplay / eFloorDistinct <= 3;
        figs.push({
          id: "floor",
          line:
            `default: floor ${fmtMs(dFloor)} vs replay ${fmtMs(dReplay)} = ${fmtRatio(dReplay / dFloor)} | ` +
            `enlarged: floor ${fmtMs(eFloorDistinct)} (each distinct recording once) vs replay ${fmtMs(eReplay)} = ${fmtRatio(eReplay / eFloorDistinct)}; ` +
            `per-cell floor ${fmtMs(eFloor)} (every cell re-reads its recording) = ${fmtRatio(eReplay / eFloor)} | ` +
            `floor = read the recordings and parse them as replay does (parseRecording) + read each cell's golden | target ratio ≤ 3 (default, and enlarged against the distinct floor): ${met ? "met" : "missed"} | ` +
            `medians of ${reps} and ${eReps} interleaved reps`,
          data: {
            defaultFloorMs: dFloor,
            defaultRatio: dReplay / dFloor,
            enlargedFloorDistinctMs: eFloorDistinct,
            enlargedRatio: eReplay / eFloorDistinct,
            enlargedFloorPerCellMs: eFloor,
            enlargedRatioPerCell: eReplay / eFloor,
          },
        });
      }
    }

    if (o.want.scaling) {
      const factors = [1, 10, 100];
      const sets = factors.map((f) => enlarge(cells, f));
      const reps = o.quick ? 3 : 5;
      const s = await interleave(
        sets.map((set, i) => ({ name: `${factors[i]}x`, before: freshProcessState, run: () => replay(set.cells, o.recordingsDir, tmpGold.dir, set.alias) })),
        reps,
        1,
      );
      const ms = factors.map((f) => median(s.get(`${f}x`)!.ms));
      const cpu = factors.map((f) => median(s.get(`${f}x`)!.cpuMs));
      const perCell = sets.map((set, i) => ms[i] / set.cells.length);
      const perCellCpu = sets.map((set, i) => cpu[i] / set.cells.length);
      figs.push({
        id: "scaling",
        line:
          factors.map((f, i) => `${f}× ${fmtInt(sets[i].cells.length)} cells: ${fmtMs(ms[i])} (${fmtMs(perCell[i])}/cell, cpu ${fmtMs(perCellCpu[i])}/cell)`).join(" | ") +
          ` | per-cell cost 10×/1× ${fmtRatio(perCell[1] / perCell[0])}, 100×/1× ${fmtRatio(perCell[2] / perCell[0])} (cpu ${fmtRatio(perCellCpu[1] / perCellCpu[0])}, ${fmtRatio(perCellCpu[2] / perCellCpu[0])}; flat = 1.00×) | ` +
          `copies replay the same recordings (parsed once per run) | medians of ${reps} interleaved reps`,
        data: { factors, cells: sets.map((x) => x.cells.length), ms, cpuMs: cpu, perCellMs: perCell, perCellCpuMs: perCellCpu, reps },
      });
    }
  } finally {
    tmpGold.dispose();
  }
  return figs;
}
