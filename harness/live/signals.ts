/**
 * Live backends under the process's one stop-signal policy (harness/signals.ts: SIGINT, SIGTERM,
 * SIGHUP). The first signal stops new defines (also one whose free-name check is under way), waits
 * for defines already sent (each bounded by its deadline), deletes what each backend defined after
 * checking it still carries the uuid this run gave it, re-reads every name, and then says either
 * "cleanup done" (every name re-read as gone) or names each domain that may be left and why. The
 * process then ends by that signal (exit status 128 + its number in a shell). A second signal shortens
 * every deadline and drops retries, so the cleanup ends soon, still naming what it left. A third ends
 * the process at once, naming what may be left.
 */
import { onStopSignal } from "../signals.js";

/** What one live backend's cleanup came to. */
export interface CleanupReport {
  where: string;
  /** How many domains this run defined (defines xend refused not counted). */
  defined: number;
  /** `name (why)` of each domain of this run that may still be on xend. */
  left: string[];
  /** `name (why)` of each of this run's names that now holds someone else's domain (left alone). */
  notOurs: string[];
}

export interface SignalTarget {
  readonly where: string;
  leftovers(): string[];
  definesUnderWay(): string[];
  interrupt(why: string): Promise<CleanupReport>;
  hurryUp(): void;
}

const targets = new Set<SignalTarget>();
let unregister: (() => void) | undefined;

function say(line: string): void {
  process.stderr.write(`xend-compat: ${line}\n`);
}

function describeLeft(): string {
  const parts: string[] = [];
  for (const t of targets) {
    const left = t.leftovers();
    if (left.length) parts.push(`${left.join(", ")} on xend at ${t.where}`);
  }
  return parts.join("; ");
}

const WHY: Partial<Record<NodeJS.Signals, string>> = { SIGINT: "interrupted", SIGTERM: "terminated", SIGHUP: "hung up" };

async function cleanup(sig: NodeJS.Signals): Promise<void> {
  const all = [...targets];
  const n = all.reduce((a, t) => a + t.leftovers().length, 0);
  const underWay = all.flatMap((t) => t.definesUnderWay());
  say(
    `${sig}: stopping; no more defines; deleting the ${n} domain(s) this run defined${underWay.length ? ` (first waiting for the answer to ${underWay.length} define(s) under way: ${underWay.join(", ")})` : ""} (${sig === "SIGINT" ? "Ctrl-C" : sig} again to hurry the cleanup)`,
  );
  const reports = await Promise.allSettled(all.map((t) => t.interrupt(WHY[sig] ?? `stopped by ${sig}`)));
  const left: string[] = [];
  const notOurs: string[] = [];
  reports.forEach((r, i) => {
    if (r.status === "rejected") {
      left.push(`everything this run defined on xend at ${all[i].where} (the cleanup failed: ${r.reason instanceof Error ? r.reason.message : String(r.reason)})`);
      return;
    }
    if (r.value.left.length) left.push(`${r.value.left.join(", ")} on xend at ${r.value.where}`);
    if (r.value.notOurs.length) notOurs.push(`${r.value.notOurs.join(", ")} on xend at ${r.value.where}`);
  });
  say(
    left.length
      ? `cleanup incomplete: may be left: ${left.join("; ")}; check and remove them by hand (e.g. xm list; xm delete NAME)`
      : "cleanup done: every domain this run defined is deleted (each name re-read: gone)",
  );
  if (notOurs.length) say(`not this run's, left alone: ${notOurs.join("; ")}`);
}

/** Register a backend for cleanup on signals; returns the unregister function. */
export function registerForSignals(t: SignalTarget): () => void {
  targets.add(t);
  unregister ??= onStopSignal({
    name: "live xend domains",
    cleanup,
    again: () => {
      say("live xend: short deadlines, no retries; the cleanup will say what it left");
      for (const x of targets) x.hurryUp();
    },
    abandon: describeLeft,
  });
  return () => {
    targets.delete(t);
    if (targets.size === 0) {
      unregister?.();
      unregister = undefined;
    }
  };
}
