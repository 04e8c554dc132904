/** `xend-compat convert`: what a libvirt release makes of a domain XML (→ SXPR) or an SXPR (→ XML) file. */
import { oneLine } from "../terminal.js";
import { readTextFile } from "../fsutil.js";
import { resolve } from "node:path";
import type { Command } from "./types.js";
import { HarnessError, isHarnessError } from "../errors.js";
import { resolveProfile } from "../libvirt/index.js";
import { prepareProfiles } from "../libvirt/build/index.js";
import { readSxpr } from "../sxp/index.js";
import { parseCommandArgs } from "./args.js";

const HELP = `usage: xend-compat convert --libvirt VERSION --to sxpr|xml [--xend-config-version N] FILE...

Print what libvirt release VERSION would produce:
  --to sxpr   FILE is a libvirt domain XML; prints the SXPR libvirt sends to xend (xenFormatSxpr)
  --to xml    FILE is an SXPR (as xend returns it); prints the domain XML libvirt shows (xenParseSxpr)

options:
  --libvirt VERSION            a release (0.8.7, 0.9.10, ...), a profile id, or a patch profile (0.8.7+rfc-localtime),
                               or src:DIR, a libvirt source tree built and run through its own C code
                               (first use: a few minutes to build; after a change: an incremental make)
  --to sxpr|xml                the direction
  --xend-config-version N      xend's xend_config_format as libvirt detected it (1-4; default 4 = any xend >= 3.1)

Backslash-newline pairs are removed from the input first (libvirt's test loader rule), so libvirt's own test
files convert as in its test suite. Exit codes: 0 converted, 1 libvirt itself would refuse (its message is
printed), 2 bad input or usage.`;

export const command: Command = {
  name: "convert",
  summary: "what a libvirt release makes of a domain XML or SXPR file",
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      "convert",
      argv,
      {
        libvirt: { type: "string" },
        to: { type: "string" },
        "xend-config-version": { type: "string" },
      },
      true,
    );
    if (!values.libvirt) throw new HarnessError("input.usage", "--libvirt VERSION is required (see 'xend-compat convert --help')");
    if (values.to !== "sxpr" && values.to !== "xml") {
      throw new HarnessError("input.usage", `--to must be 'sxpr' or 'xml'${values.to ? `, not '${values.to}'` : ""}`);
    }
    let version = 4;
    if (values["xend-config-version"] !== undefined) {
      const v = values["xend-config-version"];
      if (!/^[1-9]\d*$/.test(v)) throw new HarnessError("input.usage", `--xend-config-version must be a positive whole number, not '${v}'`);
      version = Number(v);
    }
    if (positionals.length === 0) throw new HarnessError("input.usage", "no FILE given (see 'xend-compat convert --help')");
    const profile = resolveProfile(values.libvirt);
    // src:DIR: build (or bring up to date) the tree before the first conversion; progress on stderr.
    await prepareProfiles([profile], (l) => io.err(l));
    let code = 0;
    for (const file of positionals) {
      // A regular file only (a directory or a FIFO: one line, exit 2, never a hang).
      let text = readTextFile(resolve(io.cwd, file), "input file", file);
      text = text.replace(/\\\n/g, "");
      if (positionals.length > 1) io.out(`==> ${oneLine(file)} <==`);
      try {
        const opts = { xendConfigVersion: version, file };
        // libvirt's own reader silently accepts a missing ')' or trailing text (libvirt's own test data
        // relies on it), so malformed SXPR is converted as libvirt would, with a warning naming the place;
        // only when libvirt then cannot make a domain of it is the malformation the error (exit 2).
        let syntax: HarnessError | undefined;
        if (values.to === "xml") {
          try {
            readSxpr(text, { dialect: "libvirt", strict: true, file });
          } catch (e) {
            if (!isHarnessError(e, "input.sxpr")) throw e;
            syntax = e;
          }
        }
        let outcome;
        try {
          outcome = values.to === "sxpr" ? await profile.format(text, opts) : await profile.parse(text, opts);
        } catch (e) {
          if (syntax) throw syntax;
          throw e;
        }
        if (syntax) io.err(`${syntax.oneLine()} (warning: libvirt reads it anyway)`);
        for (const w of outcome.warnings) io.err(oneLine(`${file}: libvirt ${values.libvirt} warns: ${w}`));
        io.out("sxpr" in outcome ? outcome.sxpr : outcome.xml);
      } catch (e) {
        if (isHarnessError(e, "libvirt")) {
          io.err(oneLine(`${file}: libvirt ${values.libvirt} (${profile.id}) refuses: ${e.message}`));
          code = 1;
          continue;
        }
        if (isHarnessError(e) && !e.pos?.file) {
          throw new HarnessError(e.code, e.message, { pos: { ...e.pos, file }, cause: e });
        }
        throw e;
      }
    }
    return code;
  },
};
