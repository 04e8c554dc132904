/** `xend-compat diff --from A --to B`: patch impact, only the cells whose verdict or observation differs. */
import { safeText } from "../terminal.js";
import type { Command, CliIO } from "./types.js";
import { changesBetween, has, resolveProfile } from "../libvirt/index.js";
import { HarnessError } from "../errors.js";
import { wrap } from "../report/index.js";
import { diffJson, diffResults, execute, failingCells, FAIL_ON, type Diff, type FailOn } from "../run/index.js";
import { parseCommandArgs } from "./args.js";
import { listCells, selectionOf, SELECTION_HELP, SELECTION_OPTIONS, stderrProgress } from "./common.js";
import { summaryLine } from "../report/index.js";

const HELP = `usage: xend-compat diff --from V --to V [--matrix F] [--backend B] [--recordings DIR] [--xend V]
                       [--scenario GLOB] [--list] [--json] [--fail-on changed|rejected|any]

Runs a matrix's scenarios (default: the default matrix, replayed from the shipped recordings)
for two libvirt versions or profiles (e.g. 0.8.7 and 0.8.7+rfc-localtime, or 0.9.10 and 0.9.11) on
every xend version and shows what differs, verdicts first: how many cells change verdict and from what to what, then the cells grouped by cause (the
same verdict move and the same observations differing), then each cell's details: the clock libvirt
shows, where xend returned localtime / rtc_timeoffset and with which value, the clock the guest
really got, the kernel command line, libvirt's error. The SXPR each version sends is not compared
(it is what a patch changes); 'xend-compat explain' shows it. Ends with the support answers that
change and, for two releases, the rows of libvirt's table of changes between them
(docs/libvirt-releases.md): + for a change the --to release carries, - for one only the --from
release carries.

options:
  --from V, --to V   the two libvirt versions (any release a profile covers, a patch profile, or
                     src:DIR, a libvirt source tree built and run through its own C code; with the
                     recorded backend a cell whose SXPR the tree changed has no recording: sandbox)
  --json             print the diff as one JSON object (verdictMoves, groups, cells, support)
  --fail-on WHAT     exit 1 when some cell is newly 'changed' (silently different) with --to,
                     newly 'rejected', or differs in 'any' way; the cells are named on stderr

${SELECTION_HELP}

exit codes: 0 compared (and nothing tripped --fail-on), 1 some cell could not be compared (error)
or --fail-on tripped, 2 bad input or usage`;

export const command: Command = {
  name: "diff",
  summary: "patch impact: the cells whose outcome changes between two libvirt versions",
  help: HELP,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseCommandArgs("diff", argv, {
      ...SELECTION_OPTIONS,
      from: { type: "string" },
      to: { type: "string" },
      json: { type: "boolean" },
      "fail-on": { type: "string" },
    });
    if (values.libvirt) throw new HarnessError("input.usage", "diff compares --from and --to; --libvirt does not apply (see 'xend-compat diff --help')");
    const sel = selectionOf(values, io);
    if (!values.from || !values.to) throw new HarnessError("input.usage", "diff needs --from V and --to V (see 'xend-compat diff --help')");
    if (values.from === values.to) throw new HarnessError("input.usage", `--from and --to are the same (${values.from})`);
    const failOn = values["fail-on"];
    if (failOn !== undefined && !(FAIL_ON as readonly string[]).includes(failOn))
      throw new HarnessError("input.usage", `--fail-on '${failOn}': expected one of ${FAIL_ON.join(", ")}`);
    if (values.list) return listCells({ ...sel, libvirt: [values.from, values.to] }, io);
    const progress = stderrProgress(io, sel.backend!);
    const ex = await execute({ ...sel, libvirt: [values.from, values.to], onProgress: progress.onProgress }).finally(progress.finish);
    const d = diffResults(values.from, values.to, ex.results);
    const rows = libvirtChanges(values.from, values.to);
    const failing = failOn ? failingCells(d, failOn as FailOn) : [];
    if (values.json) io.out(JSON.stringify({ ...(diffJson(d, failOn as FailOn | undefined) as object), libvirtChanges: rows ?? null }, null, 2));
    else io.out(safeText([...renderDiff(d), ...renderChanges(values.from, values.to, rows), ...wrap(summaryLine(ex.results), 80, "  ")].join("\n")));
    if (failing.length) io.err(`diff: --fail-on ${failOn}: ${failing.length} cell(s): ${failing.join(", ")}`);
    return d.errors.length || failing.length ? 1 : 0;
  },
};

interface ChangeRow {
  sign: "+" | "-";
  gate: string;
  commit: string;
  since: string;
  what: string;
}

/** What libvirt itself changed between two releases (the rows of the table of changes); undefined for patches and trees. */
function libvirtChanges(from: string, to: string): { from: string; to: string; rows: ChangeRow[] } | undefined {
  const ra = resolveProfile(from);
  const rb = resolveProfile(to);
  if (!ra.release || !rb.release || ra.patch || rb.patch) return undefined;
  const rows = changesBetween(ra.release, rb.release).map((c) => ({ sign: has(rb.release!, c.gate) ? ("+" as const) : ("-" as const), gate: c.gate, commit: c.commit, since: c.since, what: c.what }));
  return { from: ra.release, to: rb.release, rows };
}

function renderChanges(_from: string, _to: string, c: ReturnType<typeof libvirtChanges>): string[] {
  if (!c) return [];
  const out = [`libvirt changes between ${c.from} and ${c.to} (docs/libvirt-releases.md): ${c.rows.length ? "" : "none"}`.trimEnd()];
  for (const r of c.rows) out.push(...wrap(`${r.sign} ${r.gate} (${r.commit}, ${r.since}): ${r.what}`, 76, "    ").map((l) => `  ${l}`));
  return out;
}

/** The human diff: verdicts first, then groups by cause, then each cell's details, then support. */
export function renderDiff(d: Diff): string[] {
  const out: string[] = [`diff libvirt ${d.from} (${d.fromProfile}) → ${d.to} (${d.toProfile}): ${d.differ} of ${d.compared} cells differ`];
  const moved = d.verdictMoves.reduce((n, m) => n + m.cells, 0);
  out.push(
    moved
      ? `verdicts: ${moved} cell(s) change verdict: ${d.verdictMoves.map((m) => `${m.cells} ${m.from} → ${m.to}`).join(", ")}; ${d.differ - moved} differ only in what was observed`
      : `verdicts: no cell changes verdict${d.differ ? `; ${d.differ} differ only in what was observed` : ""}`,
  );
  if (d.groups.length) {
    out.push("", "by cause:");
    for (const g of d.groups) {
      out.push(...wrap(`${g.cells.length} × ${g.verdict}${g.what.length ? ` (${g.what.join(", ")} differ)` : ""}: ${g.cells.join(", ")}`, 76, "    ").map((l) => `  ${l}`));
    }
  }
  for (const c of d.cells) {
    out.push("");
    const v = c.from.verdict === c.to.verdict ? c.to.verdict : `${c.from.verdict} → ${c.to.verdict}`;
    out.push(`xend ${c.xend} / ${c.scenario}: ${v}`);
    for (const x of c.changes.filter((x) => x.what !== "verdict")) out.push(...wrap(`${x.what}: ${x.from} → ${x.to}`, 76, "    ").map((l) => `  ${l}`));
    if (c.from.verdict !== c.to.verdict) out.push(...wrap(`now: ${c.to.reason}`, 76, "    ").map((l) => `  ${l}`));
  }
  out.push("");
  out.push(d.support.length ? `support: ${d.support.map((s) => `xend ${s.xend} ${s.from} → ${s.to}`).join(", ")}` : "support: unchanged");
  return out;
}
