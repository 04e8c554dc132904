/**
 * One SIGINT/SIGTERM handler for every live backend of the process. The first signal stops new
 * defines and deletes what each backend defined, says what was deleted and what was left, and exits
 * (130 for SIGINT, 143 for SIGTERM). A second signal does not abandon the cleanup: it shortens every
 * deadline and drops retries, so the cleanup ends soon, still naming what it left. A third exits at
 * once, naming what may be left.
 */
export interface SignalTarget {
  readonly where: string;
  leftovers(): string[];
  interrupt(why: string): Promise<string[]>;
  hurryUp(): void;
}

const targets = new Set<SignalTarget>();
let count = 0;
let installed = false;

function say(line: string): void {
  process.stderr.write(`xend-compat: ${line}\n`);
}

function exitCode(sig: NodeJS.Signals): number {
  return sig === "SIGTERM" ? 143 : 130;
}

function describeLeft(): string {
  const parts: string[] = [];
  for (const t of targets) {
    const left = t.leftovers();
    if (left.length) parts.push(`${left.join(", ")} on xend at ${t.where}`);
  }
  return parts.join("; ");
}

function onSignal(sig: NodeJS.Signals): void {
  count++;
  if (count === 1) {
    const n = [...targets].reduce((a, t) => a + t.leftovers().length, 0);
    say(`${sig}: stopping; deleting the ${n} domain(s) this run defined (${sig === "SIGINT" ? "Ctrl-C" : sig} again to hurry the cleanup)`);
    void Promise.allSettled([...targets].map((t) => t.interrupt(sig === "SIGINT" ? "interrupted" : "terminated"))).then(() => {
      const left = describeLeft();
      say(left ? `cleanup incomplete: left ${left}; remove them by hand (e.g. xm delete NAME)` : "cleanup done: every domain this run defined is deleted");
      process.exit(exitCode(sig));
    });
    return;
  }
  if (count === 2) {
    say(`${sig} again: hurrying the cleanup (short deadlines, no retries); it will say what it left`);
    for (const t of targets) t.hurryUp();
    return;
  }
  const left = describeLeft();
  say(left ? `exiting now; may be left: ${left}` : "exiting now; nothing is left");
  process.exit(exitCode(sig));
}

const onInt = () => onSignal("SIGINT");
const onTerm = () => onSignal("SIGTERM");

/** Register a backend for cleanup on signals; returns the unregister function. */
export function registerForSignals(t: SignalTarget): () => void {
  targets.add(t);
  if (!installed) {
    installed = true;
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  }
  return () => {
    targets.delete(t);
    if (targets.size === 0 && installed && count === 0) {
      installed = false;
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    }
  };
}
