/**
 * Sharding a run: `--shard I/N` runs a deterministic slice of the selected cells.
 *
 * The selection (the matrix's cells after --xend/--libvirt/--scenario and include/exclude) is put in
 * a stable order, the cell ids sorted by code point, and cut into N contiguous parts whose sizes
 * differ by at most one; part I (1-based) is the shard. Sorted ids start with the xend version, so a
 * shard mostly keeps to one or two xend versions (one backend each: one sandbox or container per
 * version, not one per shard and version). The cells of a shard run in the selection's own order.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { HarnessError } from "../errors.js";

export interface ShardSpec {
  /** 1-based. */
  index: number;
  count: number;
}

/** Upper bound on N: more shards than this is surely a typo. */
export const MAX_SHARDS = 1000;

/** Parse `I/N` (1 ≤ I ≤ N ≤ 1000); anything else is a usage error naming --shard. */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const usage = (why: string) => new HarnessError("input.usage", `--shard '${text}': ${why} (e.g. --shard 2/3 runs the second of three parts)`);
  if (!m) throw usage("expected I/N, two whole numbers");
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw usage("N must be at least 1");
  if (count > MAX_SHARDS) throw usage(`N must be at most ${MAX_SHARDS}`);
  if (index < 1 || index > count) throw usage(`I must be between 1 and N (${count})`);
  return { index, count };
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The ids of shard `spec` out of `ids` (any order in, the shard's ids in sorted order out). */
export function shardIds(ids: readonly string[], spec: ShardSpec): string[] {
  const sorted = [...new Set(ids)].sort(byCodePoint);
  const from = Math.floor(((spec.index - 1) * sorted.length) / spec.count);
  const to = Math.floor((spec.index * sorted.length) / spec.count);
  return sorted.slice(from, to);
}

/** The cells of shard `spec`, in the order they came in. */
export function sliceCells<T extends { id: string }>(cells: readonly T[], spec: ShardSpec): T[] {
  const keep = new Set(shardIds(cells.map((c) => c.id), spec));
  return cells.filter((c) => keep.has(c.id));
}

/**
 * What a shard's JSON report carries so that `merge` can check that shards belong together and cover
 * their selection without overlap.
 */
export interface ShardInfo {
  index: number;
  count: number;
  /** sha256 of the matrix file's bytes: shards of an edited matrix are not joined. */
  matrixDigest: string;
  /** Every cell id of the whole selection, in run order (the merged report keeps this order). */
  selection: string[];
  /** sha256 of the selection's ids joined by newlines. */
  selectionDigest: string;
  /** The ids of this shard's cells (sorted). */
  cells: string[];
}

export function sha256(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

export function selectionDigest(ids: readonly string[]): string {
  return sha256(ids.join("\n"));
}

/** Shard metadata for a run whose whole selection is `selection` (in run order). */
export function shardInfo(spec: ShardSpec, selection: readonly string[], matrixFile: string): ShardInfo {
  let matrixDigest: string;
  try {
    matrixDigest = sha256(readFileSync(matrixFile));
  } catch (e) {
    throw new HarnessError("input.file", `cannot read the matrix ${matrixFile} to fingerprint the shard: ${(e as Error).message}`);
  }
  return {
    index: spec.index,
    count: spec.count,
    matrixDigest,
    selection: [...selection],
    selectionDigest: selectionDigest(selection),
    cells: shardIds(selection, spec),
  };
}

/** The JSON report text with the shard's metadata added as a top-level `shard` field. */
export function addShardToJson(jsonText: string, info: ShardInfo): string {
  const obj = JSON.parse(jsonText) as Record<string, unknown>;
  obj.shard = info;
  return JSON.stringify(obj, null, 2) + "\n";
}
