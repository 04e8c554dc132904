/**
 * Cell-id globs. A cell id is `<xend>/<libvirt>/<scenario>`, e.g. `4.1.2/0.9.11/hvm-utc`.
 * `*` matches any run of characters except `/`, `**` any run including `/`, `?` one character
 * except `/`, `{a,b}` one of the alternatives (nested up to 32 deep); everything else (dots, `+`) is
 * literal.
 *
 * Matching is linear: the pattern is compiled to a small automaton (runs of `*` collapsed) that is
 * run over the id once, keeping the set of positions it can be in; no backtracking, so a glob of 24
 * `*` (or of many alternatives) costs O(id length × pattern length), not exponential time as the
 * regular expression it replaces did. See DECISIONS.md.
 */
import { oneLine } from "../terminal.js";

type Item = { k: "lit"; c: string } | { k: "one" } | { k: "star" } | { k: "any" } | { k: "alt"; alts: Item[][] };

/** Node kinds of the automaton: literal, one non-'/', `*` (loop on non-'/'), `**` (loop on anything), split, match. */
const LIT = 0;
const ONE = 1;
const STAR = 2;
const ANY = 3;
const SPLIT = 4;
const MATCH = 5;

interface Node {
  k: number;
  c?: string;
  next: number;
  outs?: number[];
}

export const MAX_BRACE_DEPTH = 32;

function parse(pattern: string): Item[] {
  const frames: { alts: Item[][]; cur: Item[] }[] = [{ alts: [], cur: [] }];
  const push = (it: Item) => {
    const cur = frames[frames.length - 1].cur;
    const last = cur[cur.length - 1];
    // Collapse runs: `*` after `*` adds nothing; `**` next to `*` is `**`.
    if ((it.k === "star" || it.k === "any") && last && (last.k === "star" || last.k === "any")) {
      if (it.k === "any") cur[cur.length - 1] = it;
      return;
    }
    cur.push(it);
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const depth = frames.length - 1;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        push({ k: "any" });
        i++;
      } else push({ k: "star" });
    } else if (c === "?") push({ k: "one" });
    else if (c === "{") {
      if (depth >= MAX_BRACE_DEPTH) throw new Error(`braces nested deeper than ${MAX_BRACE_DEPTH} in glob '${oneLine(pattern)}'`);
      frames.push({ alts: [], cur: [] });
    } else if (c === "}" && depth > 0) {
      const f = frames.pop()!;
      f.alts.push(f.cur);
      frames[frames.length - 1].cur.push({ k: "alt", alts: f.alts });
    } else if (c === "," && depth > 0) {
      const f = frames[frames.length - 1];
      f.alts.push(f.cur);
      f.cur = [];
    } else push({ k: "lit", c });
  }
  if (frames.length > 1) throw new Error(`unclosed '{' in glob '${oneLine(pattern)}'`);
  return frames[0].cur;
}

/** A compiled glob: `test(id)` in time linear in the id (times the pattern's size). */
export interface Glob {
  readonly pattern: string;
  test(id: string): boolean;
}

export function compileGlob(pattern: string): Glob {
  const nodes: Node[] = [{ k: MATCH, next: -1 }];
  const node = (n: Node) => nodes.push(n) - 1;
  // Built back to front: each item's node continues to `next`. Recursion only over brace nesting (≤ 32).
  const build = (seq: Item[], next: number): number => {
    for (let i = seq.length - 1; i >= 0; i--) {
      const it = seq[i];
      switch (it.k) {
        case "lit":
          next = node({ k: LIT, c: it.c, next });
          break;
        case "one":
          next = node({ k: ONE, next });
          break;
        case "star":
          next = node({ k: STAR, next });
          break;
        case "any":
          next = node({ k: ANY, next });
          break;
        case "alt": {
          const after = next;
          next = node({ k: SPLIT, next: -1, outs: it.alts.map((a) => build(a, after)) });
          break;
        }
      }
    }
    return next;
  };
  const start = build(parse(pattern), 0);
  const n = nodes.length;
  const mark = new Uint32Array(n);
  let gen = 0;
  const stack: number[] = [];
  /** The set of `from` and everything reachable from it without reading a character. */
  const closure = (from: number[]): number[] => {
    if (++gen === 0xffffffff) {
      mark.fill(0);
      gen = 1;
    }
    const set: number[] = [];
    for (const s of from) stack.push(s);
    while (stack.length) {
      const x = stack.pop()!;
      if (mark[x] === gen) continue;
      mark[x] = gen;
      const nd = nodes[x];
      if (nd.k === SPLIT) for (const o of nd.outs!) stack.push(o);
      else {
        set.push(x);
        if (nd.k === STAR || nd.k === ANY) stack.push(nd.next);
      }
    }
    return set.sort((a, b) => a - b);
  };
  const step = (cur: number[], c: string): number[] => {
    const to: number[] = [];
    for (const s of cur) {
      const nd = nodes[s];
      if (nd.k === LIT ? nd.c === c : nd.k === ONE ? c !== "/" : false) to.push(nd.next);
      else if (nd.k === STAR ? c !== "/" : nd.k === ANY) to.push(s);
    }
    return closure(to);
  };
  // The sets of positions met so far, each with its transitions by character: a lazily built DFA,
  // so a run matching thousands of ids against one glob walks a table. Bounded: when it grows past
  // MAX_STATES it is dropped and rebuilt as needed (each step stays O(pattern size)).
  interface State {
    set: number[];
    accept: boolean;
    next: Map<string, State>;
  }
  let states = new Map<string, State>();
  const intern = (set: number[]): State => {
    const key = set.join(",");
    let st = states.get(key);
    if (!st) {
      if (states.size >= MAX_STATES) states = new Map();
      st = { set, accept: set.length > 0 && set[0] === 0, next: new Map() };
      states.set(key, st);
    }
    return st;
  };
  const first = intern(closure([start]));
  return {
    pattern,
    test(id: string): boolean {
      let st = first;
      for (let i = 0; i < id.length; i++) {
        const c = id[i];
        let to = st.next.get(c);
        if (!to) {
          to = intern(step(st.set, c));
          st.next.set(c, to);
        }
        st = to;
        if (!st.set.length) return false;
      }
      return st.accept;
    },
  };
}

const MAX_STATES = 4096;

/** Compiled globs by pattern (bounded). */
const compiled = new Map<string, Glob>();

export function globMatch(pattern: string, id: string): boolean {
  let g = compiled.get(pattern);
  if (!g) {
    g = compileGlob(pattern);
    if (compiled.size >= 1024) compiled.clear();
    compiled.set(pattern, g);
  }
  return g.test(id);
}
