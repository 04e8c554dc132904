/** Sharded runs: the deterministic I/N slice of a run's cells, shard metadata, and joining shards. */
export { parseShard, shardIds, sliceCells, shardInfo, addShardToJson, selectionDigest, MAX_SHARDS } from "./slice.js";
export type { ShardSpec, ShardInfo } from "./slice.js";
export { readShardReport, readRunReport, mergeShards } from "./merge.js";
export type { ShardFile, Merged } from "./merge.js";
export { lineColAt, offsetOfPath, jsonErrorOffset } from "./json-where.js";
