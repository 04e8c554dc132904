/**
 * Timing helpers for a shared, noisy machine: variants measured side by side are interleaved
 * (round robin, the order rotated every repetition), repeated, and summarised by their median.
 */
import { performance } from "node:perf_hooks";

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function min(xs: number[]): number {
  return xs.length ? Math.min(...xs) : NaN;
}

export interface Variant {
  name: string;
  /** One repetition; may return a value the caller wants to keep (the last one is kept). */
  run: () => Promise<unknown> | unknown;
  /** Runs before each repetition, outside the timed part (e.g. clearing a cache). */
  before?: () => void;
}

export interface Samples {
  /** Wall milliseconds per repetition, in order. */
  ms: number[];
  /** CPU milliseconds (user + system) of this process per repetition. */
  cpuMs: number[];
  last: unknown;
}

/**
 * Run every variant `reps` times, interleaved: repetition r runs the variants starting at index
 * r mod n, so none always runs first (warm caches, GC debt). `warmup` untimed rounds come first.
 */
export async function interleave(variants: Variant[], reps: number, warmup = 1): Promise<Map<string, Samples>> {
  const out = new Map<string, Samples>(variants.map((v) => [v.name, { ms: [], cpuMs: [], last: undefined }]));
  const n = variants.length;
  for (let r = -warmup; r < reps; r++) {
    for (let k = 0; k < n; k++) {
      const v = variants[(((r % n) + n) % n + k) % n];
      v.before?.();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const last = await v.run();
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      const s = out.get(v.name)!;
      s.last = last;
      if (r >= 0) {
        s.ms.push(ms);
        s.cpuMs.push((c.user + c.system) / 1000);
      }
    }
  }
  return out;
}

/** Repeat `fn` until at least `minMs` passed (at least once); returns milliseconds per call. */
export function perCall(fn: () => void, minMs: number): number {
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    fn();
    calls++;
    t = performance.now();
  } while (t - t0 < minMs);
  return (t - t0) / calls;
}

// ---------------------------------------------------------------------------------------------
// Formatting

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a";
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(1)} µs`;
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : "n/a";
}

export function fmtMB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}
