/**
 * A profile's two conversions, each through the one domain definition (./def), as libvirt runs them:
 * - XML → SXPR: the domain XML parser of the release (./domxml) fills the definition, the release's
 *   `xenFormatSxpr` (./sxpr) writes it;
 * - SXPR → XML: the release's `xenParseSxpr` (./sxpr) fills the definition, post-parse (./def) adds the
 *   driver's defaults, `virDomainDefFormat(def, 0)` of the release (./domxml) writes it.
 * Each era's base model is the release whose own suite pinned it (ERA_PIN in releases.ts: 0.6.2 → 0.8.7,
 * 0.9.5 → 0.9.10, 0.9.11 → 0.9.11, 1.3.1 → 4.5.0; `rfc-2012` is 0.8.7 with the 2012 RFC's clock
 * handling); every difference inside an era is a row of the table, asked through `level.has`.
 */
import { HarnessError, isHarnessError, type ErrorCode, type SourcePos } from "../errors.js";
import { readSxpr, readSxprPrefix, type Sx } from "../sxp/index.js";
import type { Behaviour, ConvertOptions, FormatOutcome, ParseOutcome } from "./types.js";
import { ERA_PIN, asLevel, type Level } from "./releases.js";
import { postParse450, postParseXend } from "./def/index.js";
import { formatDomainXml, parseDomainXml } from "./domxml/index.js";
import { formatSxpr, xenParseSxpr, type ClockRule } from "./sxpr/index.js";

export type { Formatter } from "./sxpr/index.js";

export function formatDomain(xml: string, at: Behaviour | Level, opts: ConvertOptions): FormatOutcome {
  const level = asLevel(at);
  const release = ERA_PIN[level.era];
  if (!release) throw new HarnessError("internal", `unknown behaviour '${level.era}'`);
  if (!Number.isInteger(opts.xendConfigVersion) || opts.xendConfigVersion < 1) {
    throw new HarnessError("input.usage", `xend config version must be a positive integer, got ${opts.xendConfigVersion}`);
  }
  // A pure function of its arguments: every xend version of a matrix sends the same XML for a
  // (profile, scenario), so the outcome is remembered by them: the SXPR, or libvirt's refusal
  // (thrown anew each time, same code, message and position; other errors are not remembered).
  // Keyed first by the XML string itself (no new key string to hash: V8 keeps a string's hash), then by the rest.
  let byXml = formatted.get(xml);
  if (!byXml) {
    if (formatted.size >= 512) formatted.clear();
    byXml = new Map();
    formatted.set(xml, byXml);
  }
  const key = `${level.key}\0${opts.xendConfigVersion}\0${opts.file ?? ""}`;
  let known = byXml.get(key);
  if (known === undefined) {
    try {
      const def = parseDomainXml(xml, { release, file: opts.file, level });
      known = formatSxpr(def, level.era === "rfc-2012" ? "0.8.7+rfc" : release, opts.xendConfigVersion, level);
      // Made of many concatenations; flattened once (V8 does so on indexing) so the remembered text
      // is one string for the garbage collector to keep, not a tree of thousands of pieces.
      known.charCodeAt(known.length >> 1);
    } catch (e) {
      if (!isHarnessError(e, "libvirt") || e.cause !== undefined) throw e;
      known = { code: e.code, message: e.message, pos: e.pos };
    }
    if (byXml.size >= 64) byXml.clear();
    byXml.set(key, known);
  }
  if (typeof known !== "string") throw new HarnessError(known.code, known.message, { pos: known.pos });
  return { sxpr: known, warnings: [] };
}

/** Forget every remembered formatDomain outcome (the bench: each repetition starts as a new process would). */
export function forgetFormatted(): void {
  formatted.clear();
}

/** formatDomain's SXPR or refusal by XML text, then by behaviour, xend config version and file name. */
const formatted = new Map<string, Map<string, string | { code: ErrorCode; message: string; pos?: SourcePos }>>();

export function parseDomain(sxpr: string, at: Behaviour | Level, opts: ConvertOptions): ParseOutcome {
  const level = asLevel(at);
  const behaviour = level.era;
  // 1.3.1-4.2.0 (the xend driver's own defaults): the parser and formatter of 0.9.11 with the
  // later rows; from 4.3.0 the suites run with the libxl driver's defaults (the 4.5.0 model).
  const xendEra = behaviour === "1.3.1" && !level.has("libxl-defaults");
  const rel = xendEra ? "0.9.11" : ERA_PIN[behaviour];
  const clockRule: ClockRule = behaviour === "rfc-2012" ? "rfc-2012" : rel;
  const warnings: string[] = [];
  const root = readLenient(sxpr, opts.file, warnings);
  const xendConfigVersion = level.has("xend-config-fixed") ? 4 : opts.xendConfigVersion;
  const def = xenParseSxpr(root, { rel, clockRule, level, xendConfigVersion, warnings });
  if (rel === "4.5.0") postParse450(def, (g) => level.has(g));
  if (xendEra) postParseXend(def, (g) => level.has(g));
  const xml = formatDomainXml(def, rel, level);
  return { xml, warnings };
}


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
