/** `xend-compat support`: which xend versions each libvirt version supports, scenario by scenario, and why not. */
import { safeDeep } from "../terminal.js";
import type { Command, CliIO } from "./types.js";
import { wrap } from "../report/index.js";
import { execute, groupedAnswers, groupSupport, supportAnswers, type SupportAnswer } from "../run/index.js";
import { parseCommandArgs } from "./args.js";
import { listCells, selectionOf, SELECTION_HELP, SELECTION_OPTIONS, stderrProgress } from "./common.js";
import pc from "picocolors";
import { summaryLine } from "../report/index.js";
import { existsSync } from "node:fs";
import { FULL_MATRIX, fromRoot } from "../matrix/index.js";
import { seriesLabel } from "../xend/index.js";
import { findProjectConfig } from "../config/index.js";

/** The matrix support answers from by default: every xend series (matrices/full.yaml). */
export { FULL_MATRIX };

const HELP = `usage: xend-compat support [--matrix F] [--backend B] [--recordings DIR] [--libvirt V] [--xend V]
                          [--scenario GLOB] [--list] [--group] [--json]

Answers, per libvirt version and xend series of a matrix (default: the project config's matrix, else
the full matrix ${FULL_MATRIX}: the xend of every Xen series 3.0-4.4, each named by the tree that
plays it; replayed from the recordings):
  full      every scenario's configuration survived (preserved)
  partial   nothing silently changed, but libvirt or xend refused something (rejected), or some
            scenario did not run (error or skipped: listed with the reason)
  unsafe    some scenario silently changed (the guest or libvirt sees a different clock or text)
  untested  no scenario could run (all skipped or error)
with the scenarios behind each answer and the reason for every one that is not preserved.

options:
  --group            group the libvirt versions that answer alike (for every xend version the same
                     status with the same scenarios under each verdict; computed from the results)
  --json             print {"support": [...]} (libvirt, profile, xend, xendTree, status, counts,
                     scenarios, why); xendTree is the honest label of the tree behind the xend
                     version; with --group also "groups": [{"libvirt": [...], "label", "profiles",
                     "support": [...]}]

${SELECTION_HELP}

exit codes: 0 answered; 1 some cell was an error (the backend or the harness failed, e.g. a recording
is missing or no longer matches: that answer lacks it); 2 bad input or usage (e.g. a xend version with
no recordings)`;

export function renderSupportText(answers: SupportAnswer[], width = 80, color = false): string {
  const c = pc.createColors(color);
  const paint = { full: c.green, partial: c.yellow, unsafe: c.red, untested: c.dim } as const;
  const out: string[] = [...supportSummary(answers, paint)];
  let lastLibvirt = "";
  for (const a of answers) {
    if (a.libvirt !== lastLibvirt) {
      if (out.length) out.push("");
      const group = / \((\d+ releases)\)$/.exec(a.libvirt);
      out.push(c.bold(group ? `libvirt ${a.libvirt.slice(0, group.index)} (${group[1]}; profile ${a.profileId})` : `libvirt ${a.libvirt} (profile ${a.profileId})`));
      lastLibvirt = a.libvirt;
    }
    out.push(`  xend ${a.xend.padEnd(7)} ${paint[a.status](a.status.padEnd(8))} ${counts(a)}`);
    const label = seriesLabel(a.xend);
    if (label !== a.xend) out.push(c.dim(`      tree: ${label}`));
    for (const [v, ss] of Object.entries(a.scenarios)) {
      if (!ss.length) continue;
      out.push(...wrap(`${v}: ${ss.join(", ")}`, width - 6, "  ").map((l) => `      ${l}`));
    }
    for (const w of a.why) out.push(...wrap(`- ${w}`, width - 6, "  ").map((l) => `      ${l}`));
  }
  return out.join("\n") + "\n";
}

/** The answers at a glance, before the details: one row per libvirt version, one column per xend. */
function supportSummary(answers: SupportAnswer[], paint: Record<SupportAnswer["status"], (s: string) => string>): string[] {
  const libvirts = [...new Set(answers.map((a) => a.libvirt))];
  const xends = [...new Set(answers.map((a) => a.xend))];
  const by = new Map(answers.map((a) => [`${a.libvirt}/${a.xend}`, a]));
  const w0 = Math.max(14, ...libvirts.map((l) => l.length)) + 2;
  const w = Math.max(9, ...xends.map((x) => x.length + 1));
  const tally = new Map<string, number>();
  for (const a of answers) tally.set(a.status, (tally.get(a.status) ?? 0) + 1);
  const out = [
    `support of ${libvirts.length} libvirt version(s) by ${xends.length} xend version(s): ${[...tally].map(([st, n]) => `${n} ${st}`).join(", ")}`,
    `${"libvirt \\ xend".padEnd(w0)}${xends.map((x) => x.padEnd(w)).join("").trimEnd()}`,
  ];
  for (const l of libvirts)
    out.push(`${l.padEnd(w0)}${xends.map((x) => { const a = by.get(`${l}/${x}`); return a ? paint[a.status](a.status.padEnd(w)) : "·".padEnd(w); }).join("").trimEnd()}`);
  return out;
}

function counts(a: SupportAnswer): string {
  return Object.entries(a.counts)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v}`)
    .join(", ");
}

export const command: Command = {
  name: "support",
  summary: "which xend versions each libvirt version supports, and why not",
  help: HELP,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseCommandArgs("support", argv, { ...SELECTION_OPTIONS, group: { type: "boolean" }, json: { type: "boolean" } });
    const sel = selectionOf(values, io);
    // Without --matrix or a project config's matrix: every xend series (the full matrix).
    if (!sel.matrix && !findProjectConfig(io.cwd)?.matrix && existsSync(fromRoot(FULL_MATRIX))) sel.matrix = fromRoot(FULL_MATRIX);
    if (values.list) return listCells(sel, io);
    const progress = stderrProgress(io, sel.backend!);
    const ex = await execute({ ...sel, onProgress: progress.onProgress }).finally(progress.finish);
    const answers = supportAnswers(ex.results);
    const json = (a: SupportAnswer) => ({ libvirt: a.libvirt, profile: a.profileId, xend: a.xend, xendTree: seriesLabel(a.xend), status: a.status, counts: a.counts, scenarios: a.scenarios, why: a.why });
    if (values.json) {
      const groups = values.group ? { groups: groupSupport(answers).map((g) => ({ libvirt: g.libvirts, label: g.label, profiles: g.profiles, support: g.answers.map(json) })) } : {};
      io.out(JSON.stringify({ support: answers.map(json), ...groups }, null, 2));
      io.err(summaryLine(ex.results));
    } else {
      const shown = values.group ? groupedAnswers(answers) : answers;
      io.out(renderSupportText(safeDeep(shown), 80, io.isTTY && io.env.NO_COLOR === undefined).replace(/\n$/, ""));
      io.out("");
      io.out(wrap(summaryLine(ex.results), 80, "  ").join("\n"));
    }
    // An error cell is a fault, not an answer: the pair's status cannot be trusted, so say so by the exit code.
    return ex.results.some((r) => r.verdict === "error") ? 1 : 0;
  },
};
