/**
 * What the replay figures run: the default matrix's cells, the same cells repeated under new
 * scenario ids (built in memory; the copies send the original cells' conversations, which the
 * recorded backend matches up to the domain instance, so nothing is written under fixtures/), the full
 * matrix (every libvirt release × every recorded xend series × every scenario), golden directories,
 * and the floor (only reading the compiled recordings and the goldens a replay consumes).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cellId, DEFAULT_MATRIX, expandCells, fromRoot, loadMatrix, projectRoot, type Cell, type Matrix } from "../harness/matrix/index.js";
import { forgetFormatted } from "../harness/libvirt/index.js";
import { backendFactory, forgetInputs, forgetPretty, GOLDEN_INDEX, GOLDEN_OBJECTS, goldenPath, readIndex, runCells, type CellResult, type GoldenOptions } from "../harness/run/index.js";
import { clearRecordingCache, forgetNodes, recordingPath } from "../harness/xend/index.js";
import { loadPack, packCacheDir } from "../harness/xend/index.js";
import { LIBVIRT_RELEASES } from "./releases.js";

/**
 * Before each timed replay: forget what the process remembers across cells (parsed recordings,
 * libvirt's formatted SXPRs, input XMLs and clocks, pretty SXPRs), so that every repetition does
 * the work a new `run` process does, and no repetition profits from an earlier one (also the node
 * answers the xend client read, and the read-backs runCell read: forgetInputs).
 */
export function freshProcessState(): void {
  clearRecordingCache();
  forgetNodes();
  forgetFormatted();
  forgetInputs();
  forgetPretty();
}

export function defaultMatrix(): { matrix: Matrix; cells: Cell[] } {
  const matrix = loadMatrix(fromRoot(DEFAULT_MATRIX), { displayName: DEFAULT_MATRIX });
  return { matrix, cells: expandCells(matrix) };
}

export interface Enlarged {
  cells: Cell[];
}

/**
 * `factor` copies of `cells`: copy 0 is the original, copy k renames every scenario `<id>-r<k>`
 * (so cell ids, result ids and golden files are new) but keeps the domain instance, steps and XML,
 * so its requests are the original's and the original's recording answers them (conversation
 * matching: the copy has no recording of its own).
 */
export function enlarge(cells: Cell[], factor: number): Enlarged {
  const out: Cell[] = [];
  const renamed = new Map<string, Cell["scenario"]>();
  for (let k = 0; k < factor; k++) {
    for (const c of cells) {
      if (k === 0) {
        out.push(c);
        continue;
      }
      const sid = `${c.scenario.id}-r${k}`;
      let s = renamed.get(sid);
      if (!s) {
        s = { ...c.scenario, id: sid };
        renamed.set(sid, s);
      }
      out.push({ ...c, id: cellId(c.xend, c.libvirt, sid), scenario: s });
    }
  }
  return { cells: out };
}

export function goldenOptions(dir: string): GoldenOptions {
  return { dir, update: false, ci: false, displayRoot: projectRoot() };
}

/** The scenarios of some cells, once each: what the recorded backend computes conversation keys from (as execute does). */
export function scenariosOf(cells: Cell[]): Cell["scenario"][] {
  return [...new Map(cells.map((c) => [c.scenario.id, c.scenario])).values()];
}

/** Replay `cells` in-process (runCells, one recorded backend per xend version), comparing goldens in `goldenDir`. */
export function replay(cells: Cell[], recordingsDir: string, goldenDir: string | null): Promise<CellResult[]> {
  return runCells(cells, {
    backendFor: backendFactory("recorded", process.env, recordingsDir, {}, scenariosOf(cells)),
    ...(goldenDir ? { golden: goldenOptions(goldenDir) } : {}),
  });
}

/** A temporary golden directory holding the goldens these cells produce now (written by one replay with update). */
export async function makeGoldens(cells: Cell[], recordingsDir: string): Promise<{ dir: string; written: number; dispose: () => void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "xend-compat-bench-golden-"));
  let written = 0;
  // In slices, so that the results of many thousand cells are never held at once (peak RSS is a figure).
  for (let k = 0; k < cells.length; k += 2000) {
    const results = await runCells(cells.slice(k, k + 2000), {
      backendFor: backendFactory("recorded", process.env, recordingsDir, {}, scenariosOf(cells)),
      golden: { dir, update: true, ci: false, displayRoot: projectRoot() },
    });
    written += results.filter((r) => r.golden?.status === "written").length;
  }
  return { dir, written, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Does the golden directory hold any golden of these cells: in the index of the matrix named `index`
 * (`<dir>/index/<index>.tsv`, content-addressed goldens, as `run` keeps them), or one file per cell?
 */
export function hasGoldens(dir: string, cells: Cell[], index?: string): boolean {
  if (index !== undefined) {
    const ids = readIndex(path.join(dir, GOLDEN_INDEX, `${index}.tsv`));
    if (cells.some((c) => ids.has(c.id))) return true;
  }
  return cells.some((c) => existsSync(goldenPath(dir, { xend: c.xend, libvirt: c.libvirt, scenario: c.scenario.id })));
}

/** The golden files a replay of `cells` reads: with the index `index`, that index and each object it names for them once; else one file per cell. */
function goldenFilesOf(dir: string, cells: Cell[], index?: string): string[] {
  if (index !== undefined) {
    const file = path.join(dir, GOLDEN_INDEX, `${index}.tsv`);
    if (existsSync(file)) {
      const ids = readIndex(file);
      const objects = new Set<string>();
      for (const c of cells) {
        const d = ids.get(c.id);
        if (d) objects.add(path.join(dir, GOLDEN_OBJECTS, `${d}.txt`));
      }
      return [file, ...objects];
    }
  }
  return cells.map((c) => goldenPath(dir, { xend: c.xend, libvirt: c.libvirt, scenario: c.scenario.id }));
}

export function recordingsPresent(dir: string, cells: Cell[]): number {
  let n = 0;
  for (const c of cells) if (existsSync(recordingPath(dir, c.id))) n++;
  return n;
}

export function anyRecordings(dir: string): boolean {
  try {
    return readdirSync(dir).some((d) => !d.startsWith("."));
  } catch {
    return false;
  }
}

/** The files a replay of `cells` consumes: the compiled pack of each xend version and the cells' goldens (with `index`: that index and its objects). */
export function floorFiles(cells: Cell[], recordingsDir: string, goldenDir: string | null, index?: string): { packs: string[]; golden: (string | null)[] } {
  const cache = packCacheDir();
  // Make sure the packs are compiled and cached, so the floor reads what a warm run reads.
  const packs = cache ? [...new Set(cells.map((c) => c.xend))].map((x) => loadPack(recordingsDir, cache, x).file ?? "").filter(Boolean) : [];
  return { packs, golden: goldenDir ? goldenFilesOf(goldenDir, cells, index) : cells.map(() => null) };
}

/**
 * The floor: read the compiled recordings (one JSON.parse per pack, as replay does) and every
 * golden; returns a count that keeps the work observable.
 */
export async function floor(files: { packs: string[]; golden: (string | null)[] }): Promise<number> {
  let n = 0;
  for (const p of files.packs) n += (JSON.parse(readFileSync(p, "utf8")) as { conversations: unknown[] }).conversations.length;
  for (const g of files.golden) {
    if (!g) continue;
    try {
      n += readFileSync(g, "utf8").length > 0 ? 1 : 0;
    } catch {
      // no golden: a replay only checks that it is missing
    }
  }
  return n;
}

export interface RunSummary {
  cells: number;
  verdicts: Record<string, number>;
  golden: Record<string, number>;
}

export function summarize(results: CellResult[]): RunSummary {
  const verdicts: Record<string, number> = {};
  const golden: Record<string, number> = {};
  for (const r of results) {
    verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
    const g = r.golden?.status ?? "none";
    golden[g] = (golden[g] ?? 0) + 1;
  }
  return { cells: results.length, verdicts, golden };
}

export function summaryText(s: RunSummary): string {
  const v = Object.entries(s.verdicts)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
  const g = Object.entries(s.golden)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
  return `verdicts ${v}; goldens ${g}`;
}

/**
 * The full matrix as matrices/full.yaml names it: every libvirt release the tool resolves (and the
 * patch profile) × every xend series × every scenario (23,800 cells). Most releases have no
 * recordings of their own: their cells send the conversation of their profile's recorded release,
 * which answers them. Without that file: the default matrix's xend versions × bench/releases.ts.
 */
export function fullMatrix(): Cell[] {
  const file = fromRoot("matrices/full.yaml");
  if (existsSync(file)) return expandCells(loadMatrix(file, { displayName: "matrices/full.yaml" }));
  const matrix = defaultMatrix().matrix;
  const patches = matrix.libvirt.filter((l) => l.includes("+"));
  return expandCells(matrix, { libvirt: [...LIBVIRT_RELEASES, ...patches] });
}

/** A named set of cells for the worker and the figures. */
export function cellSet(name: string): Cell[] {
  const { cells } = defaultMatrix();
  const m = /^(?:enlarged|x)(\d+)$/.exec(name);
  if (name === "default") return cells;
  if (name === "full") return fullMatrix();
  if (m) return enlarge(cells, Number(m[1])).cells;
  throw new Error(`unknown cell set '${name}' (default, full, x<factor>)`);
}
