/**
 * SXPR → XML: what a libvirt release shows for a xend domain SXPR (xenParseSxpr, then
 * virDomainDefFormat(def, 0)), byte for byte, per behaviour.
 */
import { readSxpr, readSxprPrefix } from "../../sxp/index.js";
import type { Sx } from "../../sxp/index.js";
import { HarnessError } from "../../errors.js";
import type { Behaviour, ConvertOptions, ParseOutcome } from "../types.js";
import { asLevel, type Level } from "../releases.js";
import { formatDomainXml } from "../xmlfmt/index.js";
import type { XmlFlavour } from "../xmlfmt/index.js";
import type { ClockRule } from "./clock.js";
import type { BaseRelease as Release } from "../def/index.js";
import { xenParseSxpr } from "./xen-sxpr.js";
import { postParse450, postParseXend } from "./post-parse.js";

const RELEASE: Record<Behaviour, Release> = {
  "0.6.2": "0.8.7",
  "rfc-2012": "0.8.7",
  "0.9.5": "0.9.10",
  "0.9.11": "0.9.11",
  "1.3.1": "4.5.0",
};

export function parseDomain(sxpr: string, at: Behaviour | Level, opts: ConvertOptions): ParseOutcome {
  const level = asLevel(at);
  const behaviour = level.era;
  // 1.3.1-4.2.0 (the xend driver's own defaults): the parser and formatter of 0.9.11 with the
  // later rows; from 4.3.0 the suites run with the libxl driver's defaults (the 4.5.0 model).
  const xendEra = behaviour === "1.3.1" && !level.has("libxl-defaults");
  const rel = xendEra ? "0.9.11" : RELEASE[behaviour];
  const clockRule: ClockRule = behaviour === "rfc-2012" ? "rfc-2012" : rel;
  const warnings: string[] = [];
  const root = readLenient(sxpr, opts.file, warnings);
  const xendConfigVersion = level.has("xend-config-fixed") ? 4 : opts.xendConfigVersion;
  const def = xenParseSxpr(root, { rel, clockRule, level, xendConfigVersion, warnings });
  if (rel === "4.5.0") postParse450(def, (g) => level.has(g));
  if (xendEra) postParseXend(def, (g) => level.has(g));
  const xml = formatDomainXml(def, rel as XmlFlavour, level);
  return { xml, warnings };
}

export { parseClock } from "./clock.js";
export type { ClockRule } from "./clock.js";

/**
 * libvirt's string2sexpr never fails: it reads the first expression, closes lists and quotes left
 * open at the end of the text and ignores whatever follows. libvirt's own suites rely on that (a few
 * of their .sexpr files have a parenthesis too many or too few), and xend 4.1.2 follows the domain
 * with a stray `''`. So: read strictly; text after a complete first expression is ignored silently,
 * as libvirt does; a first expression left open is read as libvirt reads it, and the defect goes into
 * the warnings with its position (libvirt itself says nothing); when there is no list at all, the
 * strict reader's `input.sxpr` error stands.
 */
function readLenient(text: string, file: string | undefined, warnings: string[]): Sx {
  // Fast path, same result: a complete first list is what both branches below return, whether or
  // not text follows it (xend 4.1.2's trailing `''`), so read it once without the thrown error.
  let prefix: { value: Sx } | undefined;
  try {
    prefix = readSxprPrefix(text, { file });
  } catch {
    prefix = undefined;
  }
  if (prefix && Array.isArray(prefix.value) && prefix.value.length > 0) return prefix.value;
  try {
    return readSxpr(text, { dialect: "libvirt", file });
  } catch (e) {
    if (!(e instanceof HarnessError) || e.code !== "input.sxpr") throw e;
    const loose = readSxpr(text, { dialect: "libvirt", file, strict: false });
    if (!Array.isArray(loose) || loose.length === 0) throw e;
    if (!e.message.startsWith("unexpected text after the expression")) {
      warnings.push(`${e.oneLine()} (libvirt's reader accepts this: it closes what is left open)`);
    }
    return loose;
  }
}
