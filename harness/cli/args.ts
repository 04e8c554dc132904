/** Argument parsing shared by the subcommands: node:util parseArgs, with usage errors as HarnessError. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { HarnessError } from "../errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>>;

export function parseCommandArgs<T extends Options>(command: string, argv: string[], options: T, allowPositionals = false): Parsed<T> {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    // One line: node's messages can span several (e.g. an option value that starts with '-').
    const msg = (e instanceof Error ? e.message.replace(/\. To specify a positional argument.*$/s, "") : String(e)).replace(/\s*\n\s*/g, " ");
    throw new HarnessError("input.usage", `${msg} (see 'xend-compat ${command} --help')`);
  }
}
