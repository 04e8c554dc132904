/**
 * The one stop-signal policy of the process (SIGINT, SIGTERM, SIGHUP), shared by everything that must clean up when this
 * process is told to stop (sandbox Python processes, containers, domains defined on a live xend).
 *
 * - First signal: every registered cleanup runs (together); once all have settled, the signal is
 *   raised again with default handling, so the process really ends by that signal (a shell shows
 *   128 + its number: 130 for SIGINT, 143 for SIGTERM).
 * - Second signal while cleaning up: reported on stderr, and each registration's `again` hook runs
 *   (e.g. shorter deadlines); the cleanup goes on.
 * - Third signal: reported with what each registration says may be left, and the process ends at once.
 *
 * "Default handling": before raising the signal again, every listener of it is removed, ours and
 * other modules' (testcontainers loads signal-exit, whose listener only passes a signal on when it
 * is the last one). Otherwise a remaining listener could swallow the signal and the process would
 * live on after its cleanup.
 */

/**
 * The signals that stop the process with a cleanup. SIGHUP is one of them: a closed terminal (or an SSH
 * session that drops) must clean up like Ctrl-C, not leave domains and processes behind.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export interface SignalCleanup {
  /** What this is, for messages (e.g. "sandbox", "containers"). */
  readonly name: string;
  /** Runs on the first signal; the process ends once every cleanup has settled. */
  cleanup(sig: NodeJS.Signals): Promise<unknown> | void;
  /** A second signal arrived while cleaning up. */
  again?(sig: NodeJS.Signals): void;
  /** The process ends now (third signal): what may be left behind, or "" for nothing. */
  abandon?(): string;
}

function say(line: string): void {
  process.stderr.write(`xend-compat: ${line}\n`);
}

/** End the process by `sig` with default handling. */
function die(sig: NodeJS.Signals): void {
  for (const s of STOP_SIGNALS) process.removeAllListeners(s);
  process.kill(process.pid, sig);
}

const registered = new Set<SignalCleanup>();
let count = 0;
let installed = false;

/**
 * Once stopping, a write to a terminal that is gone (SIGHUP) or to a closed pipe fails with EIO or
 * EPIPE; that must not end the process before its cleanup has run.
 */
function tolerateClosedOutput(): void {
  for (const s of [process.stdout, process.stderr]) s.on("error", () => {});
}

function onSignal(sig: NodeJS.Signals): void {
  count++;
  if (count === 1) {
    tolerateClosedOutput();
    const all = [...registered];
    void Promise.allSettled(all.map(async (r) => r.cleanup(sig))).then(() => die(sig));
    return;
  }
  if (count === 2) {
    say(`${sig} again: hurrying the cleanup (${sig} a third time ends the process at once)`);
    for (const r of registered) r.again?.(sig);
    return;
  }
  const left = [...registered].map((r) => r.abandon?.() ?? "").filter(Boolean);
  say(left.length ? `${sig} a third time: exiting now; may be left: ${left.join("; ")}` : `${sig} a third time: exiting now`);
  die(sig);
}

const handlers = new Map<NodeJS.Signals, () => void>(STOP_SIGNALS.map((s) => [s, () => onSignal(s)]));

function install(): void {
  if (installed) return;
  installed = true;
  for (const [s, h] of handlers) process.on(s, h);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const [s, h] of handlers) process.removeListener(s, h);
}

/**
 * Register a cleanup for SIGINT/SIGTERM/SIGHUP; returns the unregister function. The process listeners
 * exist while something is registered (and stay once a signal has arrived: the cleanup is under way).
 */
export function onStopSignal(c: SignalCleanup): () => void {
  registered.add(c);
  install();
  return () => {
    registered.delete(c);
    if (registered.size === 0 && count === 0) uninstall();
  };
}

/** For tests: are this module's process listeners installed? */
export function stopSignalHandlersInstalled(): boolean {
  return installed;
}
