/** Shared pieces of the fuzz suites: run counts (FUZZ_RUNS), seed corpora and a mutation arbitrary. */
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { HarnessError } from "../../harness/errors.js";
import { ROOT } from "./project-copy.js";

/** The normal suite's run count, or FUZZ_RUNS=N to run longer. */
export function runs(normal: number): number {
  const v = process.env.FUZZ_RUNS;
  if (v === undefined || v === "") return normal;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FUZZ_RUNS must be a positive whole number, not '${v}'`);
  return n;
}

export function files(dirs: string[], ext: string): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    const abs = path.join(ROOT, d);
    if (!fs.existsSync(abs)) continue;
    for (const f of fs.readdirSync(abs).sort()) if (f.endsWith(ext)) out.push(path.join(abs, f));
  }
  return out;
}

export function texts(list: string[]): string[] {
  return list.map((f) => fs.readFileSync(f, "utf8"));
}

/** Characters that matter to the formats under test, plus some that never should. */
const NASTY = "<>/='\"&;()[]{}:# -\n\t\\%+,.0123456789abcxyz\u0000\u00e9\u20ac\ud83d\ude00";
const TOKENS = [
  "<domain>", "</domain>", "<clock offset='", "localtime", "utc", "variable", "adjustment='", "basis='", "<name>", "</name>",
  "<os><type>hvm</type></os>", "<devices>", "</devices>", "<graphics type='vnc' passwd='x'/>", "(", ")", "(image (hvm ", "(localtime 1)",
  "(rtc_timeoffset ", "(name ", "(uuid ", "'", "\\", "-1", "99999999999999999999", "NaN", "&amp;", "&#0;", "<![CDATA[", "]]>", "<!--", "-->",
  "- ", ": ", "- id: ", "  ", "*a", "&a ", "!!binary ", "? ", "|\n", ">-\n", "{", "}", "[", "]", "null", "~", "0x1f", "1e999", "format: ", "exchanges:",
];

export type Edit = { kind: "delete" | "insert" | "replace" | "duplicate"; at: number; len: number; text: string };

const editArb: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom("delete", "insert", "replace", "duplicate"),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  len: fc.integer({ min: 0, max: 40 }),
  text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: fc.constantFrom(...NASTY.split("")), maxLength: 8 })),
});

export function applyEdits(text: string, edits: Edit[]): string {
  let s = text;
  for (const e of edits) {
    const at = Math.floor(e.at * s.length);
    switch (e.kind) {
      case "delete":
        s = s.slice(0, at) + s.slice(at + e.len);
        break;
      case "insert":
        s = s.slice(0, at) + e.text + s.slice(at);
        break;
      case "replace":
        s = s.slice(0, at) + e.text + s.slice(at + e.len);
        break;
      case "duplicate":
        s = s.slice(0, at + e.len) + s.slice(at, at + e.len) + s.slice(at + e.len);
        break;
    }
  }
  return s;
}

/** One of `seeds`, changed by 1 to 4 edits. */
export function mutated(seeds: string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(editArb, { minLength: 1, maxLength: 4 })).map(([i, edits]) => applyEdits(seeds[i], edits));
}

/** Call f; a thrown error must be a HarnessError (anything else is a crash and fails the property). */
export function onlyHarnessErrors(f: () => unknown, codes?: string[]): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof HarnessError)) throw new Error(`crash (not a HarnessError): ${e instanceof Error ? e.stack : String(e)}`);
    if (e.code === "internal") throw new Error(`harness bug (HarnessError internal): ${e.message}`);
    if (codes && !codes.some((c) => e.code === c || e.code.startsWith(c + ".")))
      throw new Error(`unexpected error code ${e.code}: ${e.message}`);
  }
}

export async function onlyHarnessErrorsAsync(f: () => Promise<unknown>, codes?: string[]): Promise<void> {
  try {
    await f();
  } catch (e) {
    if (!(e instanceof HarnessError)) throw new Error(`crash (not a HarnessError): ${e instanceof Error ? e.stack : String(e)}`);
    if (e.code === "internal") throw new Error(`harness bug (HarnessError internal): ${e.message}`);
    if (codes && !codes.some((c) => e.code === c || e.code.startsWith(c + ".")))
      throw new Error(`unexpected error code ${e.code}: ${e.message}`);
  }
}

/** A test deadline that grows with FUZZ_RUNS (the normal runs finish far inside vitest's default). */
export function timeoutFor(n: number): number {
  return Math.max(60_000, n * 10);
}
