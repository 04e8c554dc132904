/**
 * Form bodies as xend reads them, and comparing two request bodies by meaning.
 *
 * xend decodes `application/x-www-form-urlencoded` bodies with Python 2.7's `cgi.parse_qs(body,
 * keep_blank_values=True)`: pairs are separated by `&` **and** `;`, empty pairs are skipped, a pair
 * without `=` has the value '', `+` becomes a space and `%XX` (two hex digits) is decoded in names and
 * values alike; an invalid `%` sequence is kept as it is. The result is a dict of lists (order between
 * different names does not matter, order of repeated names does).
 *
 * Two bodies mean the same when they decode to the same names with the same value lists, where a
 * `config` value is compared as an SXPR tree read with xend's own rules (so quoting, spacing and line
 * breaks do not matter) and every other value as a string.
 */
import { readSxprAll, sxEqual, firstDifference, printSxpr } from "../sxp/index.js";
import type { Sx } from "../sxp/index.js";

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * Python 2 `urllib.unquote(s.replace('+', ' '))` over the UTF-8 bytes of `s`. The decoded bytes are
 * returned as a string in `decodeAs` (`latin1` keeps every byte exact; `utf8` for display).
 */
export function unquotePlus(s: string, decodeAs: "latin1" | "utf8" = "utf8"): string {
  if (!s.includes("%") && !s.includes("+")) return s;
  const src = Buffer.from(s, "utf8");
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (b === 0x2b) {
      out[n++] = 0x20;
    } else if (b === 0x25 && i + 2 < src.length) {
      const h = hexVal(src[i + 1]);
      const l = hexVal(src[i + 2]);
      if (h >= 0 && l >= 0) {
        out[n++] = h * 16 + l;
        i += 2;
      } else out[n++] = b;
    } else out[n++] = b;
  }
  return out.subarray(0, n).toString(decodeAs);
}

/** One decoded pair with where it came from in the body (for redaction that keeps other bytes). */
export interface FormPair {
  name: string;
  value: string;
  /** The raw `name=value` text as it was in the body. */
  raw: string;
}

/** The pairs of a form body in order, decoded as xend's cgi.parse_qs does. */
export function parseFormPairs(body: string, decodeAs: "latin1" | "utf8" = "utf8"): FormPair[] {
  const out: FormPair[] = [];
  for (const raw of body.split(/[&;]/)) {
    if (raw === "") continue;
    const eq = raw.indexOf("=");
    const name = eq < 0 ? raw : raw.slice(0, eq);
    const value = eq < 0 ? "" : raw.slice(eq + 1);
    out.push({ name: unquotePlus(name, decodeAs), value: unquotePlus(value, decodeAs), raw });
  }
  return out;
}

/** `cgi.parse_qs`: name → values in order. */
export function parseForm(body: string, decodeAs: "latin1" | "utf8" = "utf8"): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const p of parseFormPairs(body, decodeAs)) {
    const list = m.get(p.name);
    if (list) list.push(p.value);
    else m.set(p.name, [p.value]);
  }
  return m;
}

/** Form fields whose values are SXPR and compared as trees. */
export const SXPR_FIELDS: ReadonlySet<string> = new Set(["config"]);

/** A config value as xend's parser reads it; undefined when xend's parser would refuse it. */
export function readConfigTree(value: string): Sx[] | undefined {
  try {
    return readSxprAll(value);
  } catch {
    return undefined;
  }
}

export type MatchResult = { ok: true } | { ok: false; why: string };

function short(s: string, n = 120): string {
  const one = s.replace(/\s+/g, " ");
  return one.length > n ? one.slice(0, n) + "..." : one;
}

function describeSx(x: Sx | undefined): string {
  if (x === undefined) return "(nothing)";
  return short(printSxpr(x, { style: "xend" }), 100);
}

/** Compare two SXPR field values by meaning. `treeA`/`treeB` may be given when already read. */
export function compareSxprValues(a: string, b: string, treeA?: Sx[] | null, treeB?: Sx[] | null): MatchResult {
  if (a === b) return { ok: true };
  const ta = treeA === undefined ? readConfigTree(a) : treeA ?? undefined;
  const tb = treeB === undefined ? readConfigTree(b) : treeB ?? undefined;
  if (ta === undefined || tb === undefined)
    return { ok: false, why: `the texts differ and ${ta === undefined ? "the recorded" : "the sent"} one is not valid SXPR for xend` };
  if (sxEqual(ta, tb)) return { ok: true };
  const d = firstDifference(ta, tb);
  if (!d) return { ok: true };
  return { ok: false, why: `the SXPR differs: recorded ${describeSx(d.a)}, sent ${describeSx(d.b)}` };
}

/**
 * Compare a recorded form body with a sent one by meaning. `recordedTrees` may carry the already read
 * config trees of the recorded body (a cache), keyed by value index.
 */
export function compareForms(recorded: string, sent: string, recordedTrees?: Map<string, Sx[] | null>): MatchResult {
  if (recorded === sent) return { ok: true };
  const a = parseForm(recorded, "latin1");
  const b = parseForm(sent, "latin1");
  const names = new Set([...a.keys(), ...b.keys()]);
  for (const name of names) {
    const va = a.get(name);
    const vb = b.get(name);
    if (!va) return { ok: false, why: `the sent form has a field '${name}' the recording does not have` };
    if (!vb) return { ok: false, why: `the sent form lacks the field '${name}'` };
    if (va.length !== vb.length)
      return { ok: false, why: `field '${name}' appears ${vb.length} time(s), recorded ${va.length}` };
    for (let i = 0; i < va.length; i++) {
      if (SXPR_FIELDS.has(name)) {
        let ta: Sx[] | null | undefined = recordedTrees?.get(`${name}#${i}`);
        if (ta === undefined && recordedTrees) {
          ta = readConfigTree(va[i]) ?? null;
          recordedTrees.set(`${name}#${i}`, ta);
        }
        const r = compareSxprValues(va[i], vb[i], ta);
        if (!r.ok) return { ok: false, why: `field '${name}': ${r.why}` };
      } else if (va[i] !== vb[i]) {
        return { ok: false, why: `field '${name}': recorded '${short(va[i], 60)}', sent '${short(vb[i], 60)}'` };
      }
    }
  }
  return { ok: true };
}
