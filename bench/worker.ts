/**
 * One replay in a process of its own, for the figures that need one (peak RSS of a run, the full
 * matrix on 2 cores): `node --import tsx bench/worker.ts SET I/N GOLDEN_DIR RECORDINGS_DIR` replays part I
 * of N of the cell set SET (default, full, x<factor>) from RECORDINGS_DIR against the goldens in GOLDEN_DIR and prints one JSON
 * line: cells, wall and CPU milliseconds of the replay (setup excluded), the process's peak RSS,
 * verdicts.
 */
import { runCells } from "../harness/run/index.js";
import { backendFactory } from "../harness/run/index.js";
import { sliceCells } from "../harness/shard/index.js";
import { cellSet, goldenOptions, scenariosOf, summarize } from "./workload.js";

const [set = "default", part = "1/1", golden, recordings] = process.argv.slice(2);
const [index, count] = part.split("/").map(Number);
const cells = sliceCells(cellSet(set), { index, count });
const c0 = process.cpuUsage();
const t0 = performance.now();
const results = await runCells(cells, { backendFor: backendFactory("recorded", process.env, recordings, {}, scenariosOf(cells)), ...(golden ? { golden: goldenOptions(golden) } : {}) });
const ms = performance.now() - t0;
const c = process.cpuUsage(c0);
const summary = summarize(results);
process.stdout.write(JSON.stringify({ set, part, cells: cells.length, ms, cpuMs: (c.user + c.system) / 1000, maxRssBytes: process.resourceUsage().maxRSS * 1024, summary }) + "\n");
