/** Run the CLI in-process with captured standard output and error. */
import { main } from "../../harness/cli.js";

export interface CliResult {
  code: number;
  out: string[];
  err: string[];
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    out: (s) => out.push(s.replace(/\n$/, "")),
    err: (s) => err.push(s.replace(/\n$/, "")),
    isTTY: false,
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
  });
  return { code, out, err, stdout: out.join("\n"), stderr: err.join("\n") };
}

/** `run ... --reporter json` → the cells by id. */
export function cellsById(stdout: string): Map<string, { id: string; verdict: string; reason: string; outcome: string }> {
  const j = JSON.parse(stdout) as { cells: { id: string; verdict: string; reason: string; outcome: string }[] };
  return new Map(j.cells.map((c) => [c.id, c]));
}
