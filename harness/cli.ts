/**
 * The xend-compat command line. Each subcommand lives in ./cli/<name>.ts and exports
 * `command: Command`; this file only dispatches and turns errors into exit codes:
 * 0 all as expected, 1 some cell not as expected, 2 bad input or usage (one line, no stack trace),
 * 3 a fault of the harness itself (never reported as a cell result).
 */
import { HarnessError } from "./errors.js";
import { redact } from "./xend/redact.js";
import { oneLine, quietOnClosedPipe, safeText } from "./terminal.js";
import { BUILD_IN, forgetSourceProfiles } from "./libvirt/build/index.js";
import { resolve as resolvePath } from "node:path";

import type { Command, CliIO } from "./cli/types.js";
import { VERSION } from "./version.js";

export type { Command, CliIO };
export { VERSION };

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  run: { summary: "run the matrix: every cell's round trip, verdict and outcome", load: () => import("./cli/run.js") },
  support: { summary: "which xend versions each libvirt version supports, and why not", load: () => import("./cli/support.js") },
  explain: { summary: "the whole story of one cell", load: () => import("./cli/explain.js") },
  diff: { summary: "patch impact: the cells whose outcome changes between two libvirt versions", load: () => import("./cli/diff.js") },
  record: { summary: "record a real xend's answers for the matrix's cells", load: () => import("./cli/record.js") },
  convert: { summary: "what a libvirt release makes of a domain XML or SXPR file", load: () => import("./cli/convert.js") },
  conformance: { summary: "run a libvirt release's own sexpr2xml/xml2sexpr suite through its profile", load: () => import("./cli/conformance.js") },
  merge: { summary: "join the JSON results of sharded runs into one report", load: () => import("./cli/merge.js") },
  report: { summary: "render a run's JSON results again with other reporters", load: () => import("./cli/report.js") },
  doctor: { summary: "what this machine can run (engine, Python 2.7, Xen trees)", load: () => import("./cli/doctor.js") },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`);
  return [
    "xend-compat: compatibility harness for libvirt's Xen (xend) driver",
    "",
    "usage: xend-compat <command> [options]      (xend-compat <command> --help for details)",
    "",
    "commands:",
    ...lines,
    "",
    "exit codes: 0 all cells as expected, 1 some cell not as expected, 2 bad input or usage,",
    "            3 the harness itself failed (a bug: please report it with --debug output)",
    "global: --debug (stack traces), --version, --gnulib DIR (gnulib for building src:DIR trees),",
    "        --build-in host|container|auto (where src:DIR trees build; auto: the host when it has the",
    "        Debian build packages, else a container image that has them when a Docker engine answers)",
  ].join("\n");
}

let pipes: ReturnType<typeof quietOnClosedPipe> | undefined;

export function defaultIO(): CliIO {
  // `xend-compat run | head -1`: a closed pipe ends the output quietly (harness/terminal.ts).
  pipes ??= quietOnClosedPipe();
  const open = pipes.open;
  return {
    out: (s) => void (open("stdout") && process.stdout.write(s.endsWith("\n") ? s : s + "\n")),
    err: (s) => void (open("stderr") && process.stderr.write(s.endsWith("\n") ? s : s + "\n")),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  // Log lines never show secrets (vncpasswd, passwd, password): errors may quote SXPR or XML. Nothing
  // raw reaches a terminal: control characters (a matrix's, a xend's) are escaped in every line on
  // standard error; the human reports on standard output escape their data (harness/terminal.ts).
  const rawErr = io.err;
  io = { ...io, err: (s: string) => rawErr(safeText(redact(s))) };
  const debug = argv.includes("--debug") || Boolean(io.env.XEND_COMPAT_DEBUG);
  let args = argv.filter((a) => a !== "--debug");
  // --gnulib DIR (global): the gnulib checkout for building src:DIR trees that lack their .gnulib.
  const g = args.indexOf("--gnulib");
  if (g >= 0) {
    const dir = args[g + 1];
    if (!dir || dir.startsWith("--")) {
      io.err("xend-compat: --gnulib needs a directory (a gnulib checkout at the tree's .gnulib commit)");
      return 2;
    }
    process.env.XEND_COMPAT_GNULIB = resolvePath(io.cwd, dir);
    args = [...args.slice(0, g), ...args.slice(g + 2)];
  }
  // --build-in host|container|auto (global): where src:DIR trees build (XEND_COMPAT_BUILD_IN).
  const bi = args.indexOf("--build-in");
  if (bi >= 0) {
    const where = args[bi + 1];
    if (!where || !(BUILD_IN as readonly string[]).includes(where)) {
      io.err(`xend-compat: --build-in needs one of host, container, auto${where && !where.startsWith("--") ? ` (not '${oneLine(where)}')` : ""}`);
      return 2;
    }
    process.env.XEND_COMPAT_BUILD_IN = where;
    args = [...args.slice(0, bi), ...args.slice(bi + 2)];
  }
  const [name, ...rest] = args;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(usage());
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-V") {
    io.out(VERSION);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.err(`xend-compat: unknown command '${oneLine(name)}' (expected one of: ${Object.keys(COMMANDS).join(", ")})`);
    return 2;
  }
  try {
    const { command } = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(command.help);
      return 0;
    }
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof HarnessError) {
      io.err(`xend-compat ${name}: ${oneLine(e.oneLine())}`);
      if (debug) io.err(String(e.stack));
      return e.isInputError ? 2 : 3;
    }
    io.err(`xend-compat ${name}: internal error: ${oneLine(e instanceof Error ? e.message : String(e))}`);
    if (debug) io.err(String(e instanceof Error ? e.stack : e));
    return 3;
  } finally {
    // Driver processes of src:DIR builds end with the command; the next command inspects the tree anew.
    forgetSourceProfiles();
  }
}
