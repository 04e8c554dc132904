/**
 * The meaning of a libvirt `<clock>` element, so that clocks are compared by meaning, not by text:
 * `offset='utc'` means the same as `offset='variable' basis='utc' adjustment='0'`;
 * `adjustment='reset'` does not change the base (it only says "do not keep guest changes").
 */
import { DOMParser, parseSimpleXml } from "../xml/index.js";

export type ClockBase = "utc" | "localtime" | "timezone";

export interface ClockMeaning {
  base: ClockBase;
  /** Seconds added to the base. */
  adjustment: number;
  /** `adjustment='reset'` was given (utc/localtime only). */
  reset: boolean;
  /** For base timezone: the zone name. */
  timezone?: string;
}

export interface ClockReading {
  /** The `<clock .../>` element as text (attributes in document order), or null when absent. */
  xml: string | null;
  meaning: ClockMeaning;
  /** The attributes as given. */
  attrs: Record<string, string>;
}

export const DEFAULT_CLOCK: ClockMeaning = { base: "utc", adjustment: 0, reset: false };

/** Meaning of a clock given its attributes (libvirt's rules, newest release). */
export function clockMeaning(attrs: Record<string, string>): ClockMeaning {
  const offset = attrs.offset ?? "utc";
  const adj = attrs.adjustment;
  const reset = adj === "reset";
  const num = adj !== undefined && !reset ? Number(adj) : 0;
  switch (offset) {
    case "variable":
      return { base: attrs.basis === "localtime" ? "localtime" : "utc", adjustment: Number.isFinite(num) ? num : NaN, reset: false };
    case "localtime":
      return { base: "localtime", adjustment: Number.isFinite(num) ? num : NaN, reset };
    case "timezone":
      return { base: "timezone", adjustment: 0, reset: false, timezone: attrs.timezone };
    case "utc":
    default:
      return { base: "utc", adjustment: Number.isFinite(num) ? num : NaN, reset };
  }
}

/** Same time for the guest: same base (and zone) and same adjustment; `reset` is ignored. */
export function sameClock(a: ClockMeaning, b: ClockMeaning): boolean {
  return a.base === b.base && a.adjustment === b.adjustment && (a.base !== "timezone" || a.timezone === b.timezone);
}

export function describeClock(m: ClockMeaning): string {
  const base = m.base === "timezone" ? `timezone ${m.timezone ?? "?"}` : m.base;
  const adj = m.adjustment === 0 ? "" : ` ${m.adjustment > 0 ? "+" : ""}${m.adjustment}s`;
  return `${base}${adj}${m.reset ? " (reset)" : ""}`;
}

/** Read the `<clock>` of a domain XML document (libvirt's default `utc` when there is none). */
export function readClock(domainXml: string): ClockReading {
  return readClockOf(parseLenient(domainXml));
}

/** The lenient parse readClock uses (errors ignored), for callers that read more than the clock from one parse. */
export function parseLenient(xml: string): Document {
  // One reader (saxes): a well-formed text in one pass; anything else read again with its errors ignored.
  const fast = parseSimpleXml(xml);
  if (fast) return fast as unknown as Document;
  return new DOMParser({ onError: () => {} }).parseFromString(xml, "text/xml") as unknown as Document;
}

/** readClock on a document already parsed with parseLenient. */
export function readClockOf(doc: Document): ClockReading {
  const root = doc.documentElement;
  let el: Element | null = null;
  if (root) {
    for (let n = root.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === 1 && (n as Element).tagName === "clock") {
        el = n as Element;
        break;
      }
    }
  }
  if (!el) return { xml: null, meaning: { ...DEFAULT_CLOCK }, attrs: {} };
  const attrs: Record<string, string> = {};
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i)!;
    attrs[a.name] = a.value;
  }
  const xml = `<clock${Object.entries(attrs).map(([k, v]) => ` ${k}='${v}'`).join("")}/>`;
  return { xml, meaning: clockMeaning(attrs), attrs };
}
