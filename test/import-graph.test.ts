/**
 * The module graph of harness/ has no circle: every import (static, `import type`, `export … from`
 * and dynamic `import()`) between our own TypeScript files is an edge, and the strongly connected
 * components of that graph must all be single files without a self-import. A small reader of our
 * own over the sources (the TypeScript compiler API is not needed: the harness writes its imports
 * on one line each, `from "./x.js"`), checked against a graph with a known circle so it can fail.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "harness");

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out.sort();
}

/**
 * Relative module specifiers a TypeScript source imports or re-exports (comments ignored); without
 * `import type` / `export type` ones when `withTypeImports` is false (what loads at run time).
 */
export function importsOf(text: string, withTypeImports = true): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
  const out: string[] = [];
  const re = /\b(?:import|export)\s+(type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const spec = m[2] ?? m[3];
    if (!withTypeImports && m[1]) continue;
    if (spec.startsWith(".")) out.push(spec);
  }
  return out;
}

function resolve(from: string, spec: string, known: Set<string>): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base.replace(/\.js$/, ".ts"), base, base + ".ts", path.join(base, "index.ts")]) if (known.has(c)) return c;
  return undefined;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

export function harnessGraph(opts: { withTypeImports?: boolean } = {}): { graph: Map<string, string[]>; unresolved: string[] } {
  const files = tsFiles(ROOT);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const f of files) {
    const deps: string[] = [];
    for (const spec of importsOf(readFileSync(f, "utf8"), opts.withTypeImports ?? true)) {
      const to = resolve(f, spec, known);
      if (to) deps.push(to);
      else if (!path.resolve(path.dirname(f), spec).startsWith(ROOT)) continue;
      else unresolved.push(`${path.relative(ROOT, f)} → ${spec}`);
    }
    graph.set(f, deps);
  }
  return { graph, unresolved };
}

describe("the import graph of harness/", () => {
  it("reads every form of import the harness uses", () => {
    const text = [
      `import { a } from "./a.js";`,
      `import type { B } from "../b.js";`,
      `export { c } from "./c.js";`,
      `export type * from "./d.js";`,
      `import * as e from "./e.js";`,
      `const f = () => import("./f.js");`,
      `import "./g.js";`,
      `import x from "node:fs";`,
      `// import { no } from "./comment.js";`,
    ].join("\n");
    expect(importsOf(text)).toEqual(["./a.js", "../b.js", "./c.js", "./d.js", "./e.js", "./f.js", "./g.js"]);
    expect(importsOf(text, false)).toEqual(["./a.js", "./c.js", "./e.js", "./f.js", "./g.js"]);
  });

  it("finds a circle when there is one", () => {
    const g = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["d"]],
      ["e", ["a"]],
    ]);
    expect(circles(g)).toEqual([["a", "b", "c"], ["d"]]);
  });

  it("has no circle anywhere, and every relative import resolves to a file", () => {
    const { graph, unresolved } = harnessGraph();
    expect(graph.size).toBeGreaterThan(50);
    expect(unresolved).toEqual([]);
    const found = circles(graph).map((c) => c.map((f) => path.relative(ROOT, f)).join(" → "));
    expect(found).toEqual([]);
    const { graph: runtime } = harnessGraph({ withTypeImports: false });
    expect(circles(runtime).map((c) => c.map((f) => path.relative(ROOT, f)).join(" → "))).toEqual([]);
  });
});
