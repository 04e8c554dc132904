/**
 * What reaches a terminal. Matrix files, recordings and a xend's answers are foreign text: a raw
 * escape sequence in them must not move the cursor, recolour or retitle the user's terminal, and a
 * newline in a value must not make an error two lines. One function (escapeControls) is used by every
 * human-facing printer: error lines, progress, the table and support reporters, explain, diff.
 *
 * Escapes: C0 controls as `\n`, `\r`, `\t` or `\xHH`; DEL, C1 controls, line/paragraph separators,
 * bidirectional overrides and the BOM as `\uHHHH` (so a JSON text shown on a terminal stays valid
 * JSON: JSON.stringify already escapes C0 and leaves only these raw). A backslash is left as it is.
 */

// C0 (0x00-0x1f), DEL and C1 (0x7f-0x9f), U+2028/2029, bidi embeddings/overrides/isolates, BOM.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function esc(c: string): string {
  const n = c.charCodeAt(0);
  if (NAMED[c]) return NAMED[c];
  return n < 0x20 ? "\\x" + n.toString(16).padStart(2, "0") : "\\u" + n.toString(16).padStart(4, "0");
}

/**
 * `s` with control characters escaped. `keepNewlines` keeps `\n` (a multi-line report: each line is
 * still safe) and, with `keepTabs`, `\t`.
 */
export function escapeControls(s: string, opts: { keepNewlines?: boolean; keepTabs?: boolean } = {}): string {
  const re = opts.keepNewlines ? CONTROLS_BUT_NEWLINE : CONTROLS;
  re.lastIndex = 0;
  if (!re.test(s)) return s;
  re.lastIndex = 0;
  return s.replace(re, (c) => (opts.keepTabs && c === "\t" ? c : esc(c)));
}

/** One line, safe for a terminal: every control character (newlines included) escaped. */
export function oneLine(s: string): string {
  return escapeControls(s);
}

/** A multi-line text safe for a terminal: lines and tabs kept, every other control character escaped. */
export function safeText(s: string): string {
  return escapeControls(s, { keepNewlines: true, keepTabs: true });
}

/** One argument for a POSIX shell: as it is when it cannot be misread, else single-quoted. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line for a POSIX shell, each argument quoted as needed (and safe for a terminal). */
export function shellCommand(args: readonly string[]): string {
  return oneLine(args.map(shellQuote).join(" "));
}

/**
 * A closed pipe on standard output or error (`xend-compat run | head -1`) ends the output quietly:
 * further writes to that stream are dropped (no EPIPE stack trace), and the command finishes what
 * it is doing (a live backend still cleans up) and exits with its own code. Returns whether each
 * stream is still open.
 */
export function quietOnClosedPipe(streams: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = process): { open: (s: "stdout" | "stderr") => boolean } {
  const closed = { stdout: false, stderr: false };
  for (const name of ["stdout", "stderr"] as const) {
    streams[name].on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED" || closed[name]) {
        closed[name] = true;
        return;
      }
      closed[name] = true;
      // Any other error on a standard stream: the output is lost either way; say so once on the other.
      const other = name === "stdout" ? "stderr" : "stdout";
      if (!closed[other]) streams[other].write(`xend-compat: cannot write to standard ${name === "stdout" ? "output" : "error"}: ${e.code ?? e.message}\n`);
    });
  }
  return { open: (s) => !closed[s] };
}

/**
 * A copy of `value` with every string made safe for a terminal (safeText), for printers that add
 * colour themselves: the data is escaped first, so the printer's own escape sequences survive.
 */
export function safeDeep<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return safeText(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}
