/**
 * The DOM parser every XML reader of the harness uses: @xmldom/xmldom's, with one cost removed.
 *
 * xmldom 0.9 builds a new Unicode RegExp, from about 1 KB of pattern source joined anew, for every
 * end tag it reads (`g.reg('^', g.QName_group, g.S_OPT, '$')` in lib/sax.js). Profiled replays spent
 * a fifth of their CPU time there (see bench/ and DECISIONS.md beside this file). `reg` is a pure
 * function of its arguments, and the RegExps it returns have neither the `g` nor the `y` flag, so
 * they keep no state between uses (`exec`/`test` ignore lastIndex): the same RegExp can serve every
 * call with the same arguments. This module memoizes `reg` by argument identity, once, for the whole
 * process; what the parser accepts, rejects and builds is unchanged. If xmldom's internals ever look
 * different, nothing is patched and everything still works, only slower.
 */
import { createRequire } from "node:module";

export { DOMParser } from "@xmldom/xmldom";

type RegFn = ((this: unknown, ...args: unknown[]) => RegExp) & { xendCompatMemo?: true };

/** Bound on memoized argument lists (xmldom passes a handful of module constants). */
const MAX_ENTRIES = 256;

function memoizeReg(): boolean {
  let grammar: { reg?: RegFn };
  try {
    grammar = createRequire(import.meta.url)("@xmldom/xmldom/lib/grammar.js") as { reg?: RegFn };
  } catch {
    return false;
  }
  const orig = grammar.reg;
  if (typeof orig !== "function" || orig.xendCompatMemo) return false;
  const END = Symbol("regexp");
  const root = new Map<unknown, Map<unknown, unknown>>();
  let entries = 0;
  const memo: RegFn = function (this: unknown, ...args: unknown[]): RegExp {
    let m: Map<unknown, unknown> = root;
    for (const k of [this, ...args]) {
      let n = m.get(k) as Map<unknown, unknown> | undefined;
      if (!n) {
        if (entries >= MAX_ENTRIES) return orig.apply(this, args);
        n = new Map();
        m.set(k, n);
      }
      m = n;
    }
    let r = m.get(END) as RegExp | undefined;
    if (!r) {
      r = orig.apply(this, args);
      if (r instanceof RegExp && !r.global && !r.sticky) {
        m.set(END, r);
        entries++;
      }
    }
    return r;
  };
  memo.xendCompatMemo = true;
  grammar.reg = memo;
  return true;
}

/** Whether xmldom's `reg` is memoized in this process (false: its internals were not as expected). */
export const XMLDOM_REG_MEMOIZED: boolean = memoizeReg();

export { parseSimpleXml, FastElement, FastText } from "./fast.js";
export type { FastDocument, FastNode, FastAttr } from "./fast.js";
