/**
 * XML → SXPR: what a libvirt release's `xenFormatSxpr` makes of a domain XML, byte for byte.
 * Each behaviour uses the domain XML parser and the formatter of the release whose own test suite
 * pins it (0.6.2 → 0.8.7, 0.9.5 → 0.9.10, 0.9.11 → 0.9.11, 1.3.1 → 4.5.0); `rfc-2012` is 0.8.7 with
 * the 2012 RFC's clock handling (see sxpr.ts).
 */
import { HarnessError, isHarnessError, type ErrorCode, type SourcePos } from "../../errors.js";
import { parseDomainXml } from "../domxml/index.js";
import type { BaseRelease as Release } from "../def/index.js";
import type { Behaviour, ConvertOptions, FormatOutcome } from "../types.js";
import { asLevel, type Level } from "../releases.js";
import { formatSxpr, type Formatter } from "./sxpr.js";

export type { Formatter } from "./sxpr.js";

const SOURCES: Record<Behaviour, { release: Release; formatter: Formatter }> = {
  "0.6.2": { release: "0.8.7", formatter: "0.8.7" },
  "0.9.5": { release: "0.9.10", formatter: "0.9.10" },
  "0.9.11": { release: "0.9.11", formatter: "0.9.11" },
  "1.3.1": { release: "4.5.0", formatter: "4.5.0" },
  "rfc-2012": { release: "0.8.7", formatter: "0.8.7+rfc" },
};

export function formatDomain(xml: string, at: Behaviour | Level, opts: ConvertOptions): FormatOutcome {
  const level = asLevel(at);
  const src = SOURCES[level.era];
  if (!src) throw new HarnessError("internal", `unknown behaviour '${level.era}'`);
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
      const def = parseDomainXml(xml, { release: src.release, file: opts.file, level });
      known = formatSxpr(def, src.formatter, opts.xendConfigVersion, level);
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
