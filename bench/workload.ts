/**
 * What the replay figures run: the default matrix's cells, the same cells repeated under new
 * scenario ids (built in memory; the copies replay the original cells' recordings through an alias
 * backend, so nothing is written under fixtures/), golden directories, and the floor (only reading
 * and parsing the recordings and goldens a replay consumes).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cellId, DEFAULT_MATRIX, expandCells, fromRoot, loadMatrix, projectRoot, type Cell, type Matrix } from "../harness/matrix/index.js";
import { forgetFormatted } from "../harness/libvirt/index.js";
import { forgetInputs, forgetPretty, goldenPath, runCells, type CellResult, type GoldenOptions } from "../harness/run/index.js";
import { clearRecordingCache, parseRecording, RecordedBackend, recordingPath, type Backend, type BackendSession } from "../harness/xend/index.js";

/**
 * Before each timed replay: forget what the process remembers across cells (parsed recordings,
 * libvirt's formatted SXPRs, input XMLs and clocks, pretty SXPRs), so that every repetition does
 * the work a new `run` process does, and no repetition profits from an earlier one.
 */
export function freshProcessState(): void {
  clearRecordingCache();
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
  /** New cell id → the original cell id whose recording it replays. */
  alias: Map<string, string>;
}

/**
 * `factor` copies of `cells`: copy 0 is the original, copy k renames every scenario `<id>-r<k>`
 * (so cell ids, result ids and golden files are new) but keeps the domain instance, steps and XML,
 * so the requests are byte-identical to the original's and its recording answers them.
 */
export function enlarge(cells: Cell[], factor: number): Enlarged {
  const out: Cell[] = [];
  const alias = new Map<string, string>();
  const renamed = new Map<string, Cell["scenario"]>();
  for (let k = 0; k < factor; k++) {
    for (const c of cells) {
      if (k === 0) {
        out.push(c);
        alias.set(c.id, c.id);
        continue;
      }
      const sid = `${c.scenario.id}-r${k}`;
      let s = renamed.get(sid);
      if (!s) {
        s = { ...c.scenario, id: sid };
        renamed.set(sid, s);
      }
      const id = cellId(c.xend, c.libvirt, sid);
      out.push({ ...c, id, scenario: s });
      alias.set(id, c.id);
    }
  }
  return { cells: out, alias };
}

/** A recorded backend answering renamed cells with their original's recording. */
export class AliasBackend implements Backend {
  readonly kind = "recorded" as const;
  constructor(
    private readonly inner: RecordedBackend,
    private readonly alias: Map<string, string>,
  ) {}
  get xendVersion(): string {
    return this.inner.xendVersion;
  }
  get concurrency(): number {
    return this.inner.concurrency;
  }
  get guestControl(): boolean {
    return this.inner.guestControl;
  }
  provenance() {
    return this.inner.provenance();
  }
  open(id: string): Promise<BackendSession> {
    return this.inner.open(this.alias.get(id) ?? id);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export function goldenOptions(dir: string): GoldenOptions {
  return { dir, update: false, ci: false, displayRoot: projectRoot() };
}

/** Replay `cells` in-process (runCells, one recorded backend per xend version), comparing goldens in `goldenDir`. */
export function replay(cells: Cell[], recordingsDir: string, goldenDir: string | null, alias?: Map<string, string>): Promise<CellResult[]> {
  return runCells(cells, {
    backendFor: async (x) => {
      const b = new RecordedBackend({ dir: recordingsDir, xendVersion: x });
      return alias ? new AliasBackend(b, alias) : b;
    },
    ...(goldenDir ? { golden: goldenOptions(goldenDir) } : {}),
  });
}

/** A temporary golden directory holding the goldens these cells produce now (written by one replay with update). */
export async function makeGoldens(cells: Cell[], recordingsDir: string, alias: Map<string, string>): Promise<{ dir: string; written: number; dispose: () => void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "xend-compat-bench-golden-"));
  let written = 0;
  // In slices, so that the results of many thousand cells are never held at once (peak RSS is a figure).
  for (let k = 0; k < cells.length; k += 2000) {
    const results = await runCells(cells.slice(k, k + 2000), {
      backendFor: async (x) => new AliasBackend(new RecordedBackend({ dir: recordingsDir, xendVersion: x }), alias),
      golden: { dir, update: true, ci: false, displayRoot: projectRoot() },
    });
    written += results.filter((r) => r.golden?.status === "written").length;
  }
  return { dir, written, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Does the golden directory hold any golden of these cells? */
export function hasGoldens(dir: string, cells: Cell[]): boolean {
  return cells.some((c) => existsSync(goldenPath(dir, { xend: c.xend, libvirt: c.libvirt, scenario: c.scenario.id })));
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

/**
 * The floor: the files a replay of `cells` consumes. `perCell`: each cell's recording (a renamed
 * copy reads its original's) and each cell's golden. `distinct`: each distinct recording once and
 * each cell's golden, the least any replay must do (a replay may parse a shared recording once).
 */
export function floorFiles(
  cells: Cell[],
  recordingsDir: string,
  goldenDir: string | null,
  alias?: Map<string, string>,
  mode: "perCell" | "distinct" = "perCell",
): { rec: string[]; golden: (string | null)[] } {
  const rec: string[] = [];
  const golden: (string | null)[] = [];
  for (const c of cells) {
    rec.push(recordingPath(recordingsDir, alias?.get(c.id) ?? c.id));
    golden.push(goldenDir ? goldenPath(goldenDir, { xend: c.xend, libvirt: c.libvirt, scenario: c.scenario.id }) : null);
  }
  return { rec: mode === "distinct" ? [...new Set(rec)] : rec, golden };
}

/**
 * Read and parse every recording exactly as the replay parses them (parseRecording: the harness's
 * YAML reader and schema check), read every golden; returns a count that keeps the work observable.
 */
export async function floor(files: { rec: string[]; golden: (string | null)[] }): Promise<number> {
  let n = 0;
  for (const file of files.rec) {
    let text: string | null = null;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      text = null;
    }
    if (text !== null) n += (await parseRecording(text, file)).exchanges.length;
  }
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
