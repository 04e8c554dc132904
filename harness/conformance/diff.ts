/** A unified diff of two texts by lines (longest common subsequence), with 3 lines of context. */

function splitLines(s: string): string[] {
  // keep whether the text ends with a newline: "a\n" and "a" differ, and the diff must show it
  const lines = s.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  else lines[lines.length - 1] += "\n\\ No newline at end of file";
  return lines;
}

type Op = { kind: " " | "-" | "+"; text: string; a: number; b: number };

function ops(x: string[], y: string[]): Op[] {
  const n = x.length;
  const m = y.length;
  // common prefix and suffix first: libvirt's files differ in a few lines at most
  let pre = 0;
  while (pre < n && pre < m && x[pre] === y[pre]) pre++;
  let suf = 0;
  while (suf < n - pre && suf < m - pre && x[n - 1 - suf] === y[m - 1 - suf]) suf++;
  const xs = x.slice(pre, n - suf);
  const ys = y.slice(pre, m - suf);
  const lcs: number[][] = Array.from({ length: xs.length + 1 }, () => new Array<number>(ys.length + 1).fill(0));
  for (let i = xs.length - 1; i >= 0; i--) for (let j = ys.length - 1; j >= 0; j--) lcs[i][j] = xs[i] === ys[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: Op[] = [];
  for (let k = 0; k < pre; k++) out.push({ kind: " ", text: x[k], a: k, b: k });
  let i = 0;
  let j = 0;
  while (i < xs.length || j < ys.length) {
    if (i < xs.length && j < ys.length && xs[i] === ys[j]) {
      out.push({ kind: " ", text: xs[i], a: pre + i, b: pre + j });
      i++;
      j++;
    } else if (i < xs.length && (j >= ys.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push({ kind: "-", text: xs[i], a: pre + i, b: pre + j });
      i++;
    } else {
      out.push({ kind: "+", text: ys[j], a: pre + i, b: pre + j });
      j++;
    }
  }
  for (let k = 0; k < suf; k++) out.push({ kind: " ", text: x[n - suf + k], a: n - suf + k, b: m - suf + k });
  return out;
}

/** `--- aName` / `+++ bName` and the hunks; "" when the texts are equal. */
export function unifiedDiff(a: string, b: string, aName: string, bName: string, context = 3): string {
  if (a === b) return "";
  const all = ops(splitLines(a), splitLines(b));
  const out = [`--- ${aName}`, `+++ ${bName}`];
  let k = 0;
  while (k < all.length) {
    // next change
    while (k < all.length && all[k].kind === " ") k++;
    if (k >= all.length) break;
    let start = Math.max(0, k - context);
    let end = k;
    // extend the hunk while changes are within 2*context lines of each other
    for (;;) {
      while (end < all.length && all[end].kind !== " ") end++;
      let next = end;
      while (next < all.length && all[next].kind === " ") next++;
      if (next < all.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(all.length, end + context);
    const hunk = all.slice(start, stop);
    const aLen = hunk.filter((o) => o.kind !== "+").length;
    const bLen = hunk.filter((o) => o.kind !== "-").length;
    const aStart = hunk[0].a + (aLen ? 1 : 0);
    const bStart = hunk[0].b + (bLen ? 1 : 0);
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.text}`);
    k = stop;
    start = stop;
  }
  return out.join("\n") + "\n";
}
