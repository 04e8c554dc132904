/**
 * Live backends under the process's one SIGINT/SIGTERM policy (harness/signals.ts). The first
 * signal stops new defines and deletes what each backend defined, says what was deleted and what
 * was left, and the process then ends by that signal (exit status 130 for SIGINT, 143 for SIGTERM in
 * a shell). A second signal does not abandon the cleanup: it shortens every deadline and drops
 * retries, so the cleanup ends soon, still naming what it left. A third ends the process at once,
 * naming what may be left.
 */
import { onStopSignal } from "../signals.js";

export interface SignalTarget {
  readonly where: string;
  leftovers(): string[];
  interrupt(why: string): Promise<string[]>;
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

async function cleanup(sig: NodeJS.Signals): Promise<void> {
  const n = [...targets].reduce((a, t) => a + t.leftovers().length, 0);
  say(`${sig}: stopping; deleting the ${n} domain(s) this run defined (${sig === "SIGINT" ? "Ctrl-C" : sig} again to hurry the cleanup)`);
  await Promise.allSettled([...targets].map((t) => t.interrupt(sig === "SIGINT" ? "interrupted" : "terminated")));
  const left = describeLeft();
  say(left ? `cleanup incomplete: left ${left}; remove them by hand (e.g. xm delete NAME)` : "cleanup done: every domain this run defined is deleted");
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
