/**
 * Joining the JSON reports of sharded runs (`run --shard I/N --reporter json`) into one run report.
 *
 * Shards are joined only when they belong together: same tool version, same matrix (name and the
 * sha256 of its file), same selection of cells, same N, same backend; every shard 1..N given exactly
 * once; each shard holding exactly the cells its I/N slice names (so no cell twice, none missing).
 * Anything else is refused with one error naming the file (exit 2). The support answers are
 * recomputed from the joined cells; the cells come back in the unsharded run's order.
 */
import { z } from "zod";
import { HarnessError } from "../errors.js";
import { OUTCOMES, type CellResult } from "../run/index.js";
import { VERDICTS } from "../matrix/index.js";
import { makeReport, type RunReport } from "../report/index.js";
import { jsonErrorOffset, jsonTooDeep, lineColAt, MAX_JSON_DEPTH, offsetOfPath } from "./json-where.js";
import { selectionDigest, shardIds, type ShardInfo } from "./slice.js";

const shardSchema = z.object({
  index: z.number().int().min(1),
  count: z.number().int().min(1),
  matrixDigest: z.string().regex(/^[0-9a-f]{64}$/, "expected a sha256 in hex"),
  selection: z.array(z.string()),
  selectionDigest: z.string().regex(/^[0-9a-f]{64}$/, "expected a sha256 in hex"),
  cells: z.array(z.string()),
});

const cellSchema = z.object({
  id: z.string(),
  xend: z.string(),
  libvirt: z.string(),
  profile: z.string(),
  scenario: z.string(),
  guest: z.enum(["pv", "hvm"]),
  backend: z.enum(["recorded", "sandbox", "container", "live"]).nullable(),
  replayed: z.literal(true).optional(),
  wire: z.enum(["native", "ours"]).optional(),
  verdict: z.enum(VERDICTS),
  reason: z.string(),
  outcome: z.enum(OUTCOMES as unknown as [string, ...string[]]),
  outcomeReason: z.string(),
  expectation: z.object({ cells: z.string(), verdict: z.enum(VERDICTS), reason: z.string(), fixedBy: z.string().optional(), report: z.string().optional() }).nullable(),
  golden: z.object({ status: z.enum(["match", "mismatch", "missing", "written", "not-compared"]), file: z.string(), diff: z.string().optional(), detail: z.string().optional() }).nullable(),
  observation: z.looseObject({ exchanges: z.array(z.unknown()), localtimePaths: z.array(z.unknown()), rtcTimeoffsetPaths: z.array(z.unknown()) }),
  durationMs: z.number().nonnegative().optional(),
});

const reportSchema = z.object({
  tool: z.literal("xend-compat", { error: "expected 'xend-compat' (not a report of this tool)" }),
  version: z.string(),
  matrix: z.object({ name: z.string(), file: z.string() }),
  backend: z.string(),
  cells: z.array(cellSchema),
  obsoleteGoldens: z.array(z.string()).default([]),
  shard: shardSchema.optional(),
});

type ReportJson = z.infer<typeof reportSchema>;

export interface ShardFile {
  /** The file as the user named it (for messages). */
  file: string;
  report: ReportJson;
  shard: ShardInfo;
}

function fileError(file: string, message: string, text?: string, path?: readonly (string | number)[]): HarnessError {
  const pos = text !== undefined && path ? lineColAt(text, offsetOfPath(text, path)) : undefined;
  return new HarnessError("input.file", message, { pos: { file, ...(pos ?? {}) } });
}

/** Read and check one shard's JSON text; errors name the file (and line and column where known). */
export function readShardReport(file: string, text: string): ShardFile {
  const report = parseReportJson(file, text);
  return checkShard(file, text, report);
}

/**
 * Read the JSON report of any run (`run --reporter json`, sharded or not, or `merge --reporter json`)
 * back into a run report, for rendering again with other reporters (`xend-compat report`).
 */
export function readRunReport(file: string, text: string): RunReport {
  const r = parseReportJson(file, text);
  return makeReport(r.matrix, r.backend, r.cells.map(toCellResult), r.obsoleteGoldens);
}

/** JSON text → the checked shape of a JSON run report; errors name the file, line and column. */
function parseReportJson(file: string, text: string): ReportJson {
  // Deeper than any report of ours, and than what walks the report after reading (redaction): one line, exit 2.
  const deep = jsonTooDeep(text);
  if (deep >= 0) throw new HarnessError("input.file", `not a report of xend-compat: nested deeper than ${MAX_JSON_DEPTH} levels`, { pos: { file, ...lineColAt(text, deep) } });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const found = jsonErrorOffset(text, e);
    const at = found < 0 ? 0 : found;
    const what = at >= text.length ? "the text ends too early" : `unexpected ${JSON.stringify(text[at])}`;
    throw new HarnessError("input.file", `not valid JSON: ${what}`, { pos: { file, ...lineColAt(text, at) }, cause: e });
  }
  const parsed = reportSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") : "(top level)";
    throw fileError(file, `not a JSON report of 'xend-compat run --reporter json': ${where}: ${issue.message}`, text, issue.path as (string | number)[]);
  }
  return parsed.data;
}

function checkShard(file: string, text: string, report: ReportJson): ShardFile {
  if (!report.shard) throw fileError(file, "not a shard's report: it has no 'shard' field (make shards with 'xend-compat run --shard I/N --reporter json --out F')");
  const s = report.shard;
  if (s.index > s.count) throw fileError(file, `shard.index ${s.index} is above shard.count ${s.count}`, text, ["shard", "index"]);
  if (selectionDigest(s.selection) !== s.selectionDigest) throw fileError(file, "shard.selection does not match shard.selectionDigest (the file was edited)", text, ["shard", "selection"]);
  const ids = report.cells.map((c) => c.id);
  const expected = shardIds(s.selection, s);
  const missing = expected.filter((id) => !ids.includes(id));
  const extra = ids.filter((id) => !expected.includes(id));
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (missing.length || extra.length || twice.length) {
    const parts = [
      missing.length ? `missing ${list(missing)}` : "",
      extra.length ? `not of this shard ${list(extra)}` : "",
      twice.length ? `twice ${list(twice)}` : "",
    ].filter(Boolean);
    throw fileError(file, `its cells are not shard ${s.index}/${s.count} of its selection: ${parts.join("; ")}`, text, ["cells"]);
  }
  return { file, report, shard: s };
}

function list(ids: string[]): string {
  return ids.length > 3 ? `${ids.slice(0, 3).join(", ")} and ${ids.length - 3} more` : ids.join(", ");
}

function usage(msg: string): HarnessError {
  return new HarnessError("input.usage", msg);
}

function toCellResult(c: ReportJson["cells"][number]): CellResult {
  return {
    id: c.id,
    xend: c.xend,
    libvirt: c.libvirt,
    profileId: c.profile,
    scenario: c.scenario,
    guest: c.guest,
    backend: c.backend,
    ...(c.replayed ? { replayed: true as const } : {}),
    wire: c.wire ?? "ours",
    verdict: c.verdict,
    reason: c.reason,
    outcome: c.outcome as CellResult["outcome"],
    outcomeReason: c.outcomeReason,
    expectation: c.expectation,
    observation: c.observation as unknown as CellResult["observation"],
    ...(c.durationMs !== undefined ? { durationMs: c.durationMs } : {}),
    golden: c.golden,
  };
}

export interface Merged {
  report: RunReport;
  /** `I/N from FILE`, in shard order. */
  shards: string[];
}

/** Join shards that belong together into one run report; refuse (exit 2) anything else. */
export function mergeShards(files: ShardFile[]): Merged {
  if (!files.length) throw usage("merge needs at least one shard's JSON report");
  const first = files[0];
  const a = first.report;
  for (const f of files.slice(1)) {
    const b = f.report;
    const foreign = (what: string, x: string, y: string) => usage(`${f.file} is not a shard of the same run as ${first.file}: ${what} ${y} there, ${x} in ${first.file}`);
    if (b.version !== a.version) throw foreign("xend-compat version", a.version, b.version);
    if (b.matrix.name !== a.matrix.name) throw foreign("matrix", a.matrix.name, b.matrix.name);
    if (f.shard.matrixDigest !== first.shard.matrixDigest) throw foreign("matrix file content (sha256)", first.shard.matrixDigest.slice(0, 12), f.shard.matrixDigest.slice(0, 12));
    if (f.shard.selectionDigest !== first.shard.selectionDigest)
      throw foreign("selection of cells (other --xend/--libvirt/--scenario filters?)", `${first.shard.selection.length} cells`, `${f.shard.selection.length} cells`);
    if (f.shard.count !== first.shard.count) throw foreign("shard count N", String(first.shard.count), String(f.shard.count));
    if (b.backend !== a.backend) throw foreign("backend", a.backend, b.backend);
  }
  const n = first.shard.count;
  const byIndex = new Map<number, ShardFile>();
  for (const f of files) {
    const prev = byIndex.get(f.shard.index);
    if (prev) throw usage(`${prev.file} and ${f.file} are both shard ${f.shard.index}/${n}: shards overlap`);
    byIndex.set(f.shard.index, f);
  }
  const absent = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (absent.length) throw usage(`shard${absent.length > 1 ? "s" : ""} ${absent.map((i) => `${i}/${n}`).join(", ")} missing: the given shards (${[...byIndex.keys()].sort((x, y) => x - y).map((i) => `${i}/${n}`).join(", ")}) do not cover the run`);

  const results = new Map<string, { cell: CellResult; file: string }>();
  for (const f of files) {
    for (const c of f.report.cells) {
      const prev = results.get(c.id);
      if (prev) throw usage(`cell ${c.id} is in both ${prev.file} and ${f.file}: shards overlap`);
      results.set(c.id, { cell: toCellResult(c), file: f.file });
    }
  }
  const selection = first.shard.selection;
  const notRun = selection.filter((id) => !results.has(id));
  if (notRun.length) throw usage(`the shards do not cover the run: ${notRun.length} cell(s) missing (${list(notRun)})`);
  const ordered = selection.map((id) => results.get(id)!.cell);
  const obsolete = [...new Set(files.flatMap((f) => f.report.obsoleteGoldens))].sort();
  const report = makeReport(a.matrix, a.backend, ordered, obsolete);
  return { report, shards: [...byIndex.entries()].sort(([x], [y]) => x - y).map(([i, f]) => `${i}/${n} from ${f.file}`) };
}
