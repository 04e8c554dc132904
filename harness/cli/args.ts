/** Argument parsing shared by the subcommands: node:util parseArgs, with usage errors as HarnessError. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { HarnessError } from "../errors.js";

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    const msg = (e instanceof Error ? e.message.replace(/\. To specify a positional argument.*$/s, "") : String(e)).replace(/\s*\n\s*/g, " ");
    throw new HarnessError("input.usage", `${msg} (see 'xend-compat ${command} --help')`);
  }
}
