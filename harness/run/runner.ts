/**
 * runCells: every cell isolated (one cell's fault never stops the run), cells of one xend version share
 * one backend, at most `backend.concurrency` cells at once per backend (and `concurrency` overall),
 * cells that would define the same domain on the same xend never overlap. Results come back in the
 * order of the cells.
 */
import { HarnessError, isHarnessError } from "../errors.js";
import type { Profile } from "../libvirt/index.js";
import type { Cell } from "../matrix/index.js";
import type { Backend } from "../xend/types.js";
import { registerSecrets, secretsInXml } from "../xend/index.js";
import { runCell, verdictForError, withReadBack, type CellRun, type WireMode } from "./cell.js";
import { checkGolden, type GoldenOptions, type RaceOutcome } from "./golden.js";
import { raceAlternatives } from "./races.js";
import { outcomeOf } from "./outcome.js";
import type { CellResult, GoldenResult, Observation, Progress } from "./types.js";
import { emptyObservation, rewriteIdentity } from "./cell.js";

export interface RunOptions {
  /** The backend that plays xend `xendVersion` (called once per version; runCells closes it at the end unless closeBackends is false). */
  backendFor: (xendVersion: string) => Promise<Backend>;
  /** Upper bound of cells running at once overall (default 8); each backend's own concurrency also applies. */
  concurrency?: number;
  /** Called after each cell. */
  onProgress?: (p: Progress) => void;
  /** Compare (and maybe update) goldens; none when absent. */
  golden?: GoldenOptions;
  /** Close the backends at the end (default true). */
  closeBackends?: boolean;
  /** Override profile resolution (tests). */
  profileFor?: (libvirt: string) => Profile;
  /** Milliseconds clock for each cell's duration (tests inject one; default performance.now). */
  now?: () => number;
  /** Whose HTTP client talks to xend for a libvirt version (default: ours for all; `--wire`). */
  wireFor?: (libvirt: string) => WireMode;
}

class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

function baseObservation(cell: Cell): Observation {
  return emptyObservation(cell, rewriteIdentity(cell.scenario.xml, cell.instance.name, cell.instance.uuid));
}

/** Assemble a CellResult from a cell and its run (outcome and golden included). */
export async function finishCell(cell: Cell, run: CellRun, backend: Backend | null, golden?: GoldenOptions): Promise<CellResult> {
  const result: CellResult = {
    id: cell.id,
    xend: cell.xend,
    libvirt: cell.libvirt,
    profileId: cell.profileId,
    scenario: cell.scenario.id,
    guest: cell.scenario.guest,
    backend: backend?.kind ?? null,
    ...(backend?.replays && backend.kind !== "recorded" ? { replayed: true as const } : {}),
    wire: run.wire ?? "ours",
    verdict: run.verdict,
    reason: run.reason,
    outcome: "fail",
    outcomeReason: "",
    expectation: cell.expectation
      ? { cells: cell.expectation.cells, verdict: cell.expectation.verdict, reason: cell.expectation.reason, fixedBy: cell.expectation.fixedBy, report: cell.expectation.report }
      : null,
    observation: run.observation,
    golden: null,
  };
  let g: GoldenResult | null = null;
  if (golden) {
    try {
      // Race alternatives re-parse through the profile, which may answer asynchronously (built profiles).
      const races = await raceOutcomes(cell, run, backend);
      g = checkGolden(result, golden, () => races);
    } catch (e) {
      if (isHarnessError(e, "input")) throw e;
      g = { status: "not-compared", file: "", detail: `golden: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  result.golden = g;
  const o = outcomeOf(result.verdict, cell.expectation, g, golden?.ci ?? false);
  result.outcome = o.outcome;
  result.outcomeReason = o.reason;
  return result;
}

/** What the cell would have given had a documented race of xend gone the other way (see races.ts). */
async function raceOutcomes(cell: Cell, run: CellRun, backend: Backend | null): Promise<RaceOutcome[]> {
  const sxpr = run.observation.sxprReturned;
  if (sxpr === null) return [];
  const out: RaceOutcome[] = [];
  for (const alt of raceAlternatives(cell.id, sxpr)) {
    const r = await withReadBack(cell, run, alt.sxpr, backend?.kind);
    if (r) out.push({ ...r, what: `${alt.race.key} ${alt.from} in this run, ${alt.to} in the golden: ${alt.race.why}` });
  }
  return out;
}

export async function runCells(cells: Cell[], opts: RunOptions): Promise<CellResult[]> {
  if (opts.golden?.update && opts.golden.ci) throw new HarnessError("input.usage", "--update-golden refuses to write under CI (the CI environment variable is set)");
  // Every password of the domains about to be sent is redacted by value in whatever is written later.
  for (const xml of new Set(cells.map((c) => c.scenario.xml))) registerSecrets(secretsInXml(xml));
  const overall = new Semaphore(Math.max(1, opts.concurrency ?? 8));
  const backends = new Map<string, Promise<Backend>>();
  const perBackend = new Map<string, Semaphore>();
  const instanceLocks = new Map<string, Promise<void>>();
  const results: CellResult[] = new Array(cells.length);
  let done = 0;

  const backendOf = (xend: string): Promise<Backend> => {
    let p = backends.get(xend);
    if (!p) {
      p = opts.backendFor(xend);
      backends.set(xend, p);
      p.catch(() => {});
    }
    return p;
  };

  const now = opts.now ?? (() => performance.now());
  const one = async (cell: Cell, index: number) => {
    let backend: Backend | null = null;
    let run: CellRun;
    let started: number | undefined;
    try {
      backend = await backendOf(cell.xend);
    } catch (e) {
      // A bad argument or setting (e.g. an unusable --url) is the user's input: the run stops, exit 2.
      if (isHarnessError(e, "input")) throw e;
      // A backend that cannot start is a failure of every cell it was to play, never a skip: a run
      // where nothing could run must not come out green (execute() stops before that; this holds
      // for every other caller of runCells).
      const v = verdictForError(e, `backend for xend ${cell.xend} could not start`);
      run = { verdict: "error", reason: v.reason, observation: baseObservation(cell) };
    }
    if (backend) {
      let sem = perBackend.get(cell.xend);
      if (!sem) {
        sem = new Semaphore(Math.max(1, backend.concurrency));
        perBackend.set(cell.xend, sem);
      }
      // Serialize cells that define the same domain on the same xend.
      const key = `${cell.xend}/${cell.instance.name}`;
      const prev = instanceLocks.get(key) ?? Promise.resolve();
      let unlock!: () => void;
      const mine = new Promise<void>((r) => (unlock = r));
      instanceLocks.set(key, prev.then(() => mine));
      await prev;
      await sem.acquire();
      started = now();
      try {
        const profile = opts.profileFor ? safeProfile(opts.profileFor, cell.libvirt) : undefined;
        run = profile instanceof Error ? { verdict: "error", reason: `profile: ${profile.message}`, observation: baseObservation(cell) } : await runCell(cell, backend, { profile, wire: opts.wireFor?.(cell.libvirt) ?? "ours" });
      } catch (e) {
        if (isHarnessError(e, "input")) throw e;
        run = { ...verdictForError(e, "running the cell"), observation: baseObservation(cell) };
      } finally {
        sem.release();
        unlock();
      }
    }
    const result = await finishCell(cell, run!, backend, opts.golden);
    // The cell's own time: from when it got its turn on the backend to its verdict (not the queueing).
    if (started !== undefined) result.durationMs = Math.max(0, Math.round((now() - started) * 1000) / 1000);
    results[index] = result;
    done++;
    opts.onProgress?.({ done, total: cells.length, result });
  };

  try {
    await Promise.all(
      cells.map(async (cell, i) => {
        await overall.acquire();
        try {
          await one(cell, i);
        } finally {
          overall.release();
        }
      }),
    );
  } finally {
    if (opts.closeBackends !== false) {
      for (const p of backends.values()) {
        try {
          await (await p).close();
        } catch {
          // a backend that failed to start or to close has nothing more to say here
        }
      }
    }
  }
  return results;
}

function safeProfile(f: (l: string) => Profile, libvirt: string): Profile | Error {
  try {
    return f(libvirt);
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}
