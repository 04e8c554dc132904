/** What every command module implements and receives; shared by cli.ts and each ./<command>.ts (no import of cli.ts). */

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full `--help` text. */
  help: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}
