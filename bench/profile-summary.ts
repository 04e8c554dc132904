/**
 * Summarise a V8 .cpuprofile (node --cpu-prof): the functions with the most self time and the most
 * inclusive time, with their file, as percentages of the sampled time.
 * usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [top=25]
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

const [file, topArg = "25"] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [top]\n");
  process.exit(2);
}
const prof = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const total = prof.nodes.reduce((s, n) => s + n.hitCount, 0);
const key = (n: Node) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*\/(node_modules|harness|bench)\//, "$1/").replace(/^file:\/\//, "")}:${n.callFrame.lineNumber + 1}`;
const self = new Map<string, number>();
for (const n of prof.nodes) self.set(key(n), (self.get(key(n)) ?? 0) + n.hitCount);
// Inclusive: a function counts once per sample even when recursive.
const incl = new Map<string, number>();
const walk = (n: Node, onStack: Set<string>): number => {
  let sum = n.hitCount;
  const k = key(n);
  const fresh = !onStack.has(k);
  if (fresh) onStack.add(k);
  for (const c of n.children ?? []) sum += walk(byId.get(c)!, onStack);
  if (fresh) onStack.delete(k);
  return sum;
};
// Recompute properly: attribute each node's own hits to every distinct function on its stack.
const stackHits = (n: Node, stack: string[]) => {
  const k = key(n);
  const s = stack.includes(k) ? stack : [...stack, k];
  for (const f of s) incl.set(f, (incl.get(f) ?? 0) + n.hitCount);
  for (const c of n.children ?? []) stackHits(byId.get(c)!, s);
};
void walk;
stackHits(prof.nodes[0], []);
const top = Number(topArg);
const pct = (x: number) => `${((x / total) * 100).toFixed(1).padStart(5)}%`;
process.stdout.write(`samples ${total}\nself:\n`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(v)}  ${k}\n`);
process.stdout.write(`inclusive:\n`);
for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(v)}  ${k}\n`);
