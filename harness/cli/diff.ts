/** `xend-compat diff --from A --to B`: patch impact, only the cells whose verdict or observation differs. */
import { safeText } from "../terminal.js";
import type { Command, CliIO } from "./types.js";
import { changesBetween, has, resolveProfile } from "../libvirt/index.js";
import { HarnessError } from "../errors.js";
import { wrap } from "../report/index.js";
import { execute, signed, supportAnswers, type CellResult } from "../run/index.js";
import { parseCommandArgs } from "./args.js";
import { listArg, stderrProgress } from "./common.js";
import { summaryLine } from "../report/index.js";

const HELP = `usage: xend-compat diff --from V --to V [--xend V] [--scenario GLOB]

Runs the default matrix's scenarios for two libvirt versions or profiles (e.g. 0.8.7 and
0.8.7+rfc-localtime, or 0.9.10 and 0.9.11) on every xend version and shows only the cells where
the two differ: the verdict, or what was observed (the clock libvirt shows, where xend returned
localtime / rtc_timeoffset and with which value, the clock the guest really got, the kernel command
line, libvirt's error). The SXPR each version sends is not compared (it is what a patch changes);
'xend-compat explain' shows it. Ends with the support answers that change and, for two releases, the
rows of libvirt's table of changes between them (docs/libvirt-releases.md): + for a change the --to
release carries, - for one only the --from release carries.

options:
  --from V, --to V   the two libvirt versions (any release a profile covers, or a patch profile)
  --xend V           only this xend version (repeatable or comma-separated)
  --scenario GLOB    only scenarios whose id matches

exit codes: 0 compared, 1 some cell could not be compared (error), 2 bad input or usage`;

/** What `diff` compares of a cell, as labelled lines. */
export function observed(r: CellResult): [string, string][] {
  const o = r.observation;
  return [
    ["verdict", r.verdict],
    ["clock after", o.clockAfter ? `${o.clockAfter.xml ?? "none"} (${o.clockAfter.description})` : "(none)"],
    ["localtime returned", o.localtimePaths.map((p) => `${p.path} ${p.value}`).join(", ") || "nowhere"],
    ["rtc_timeoffset returned", o.rtcTimeoffsetPaths.map((p) => `${p.path} ${p.value}`).join(", ") || "nowhere"],
    ["guest clock", o.effective.map((e) => `${e.step} ${signed(e.utcOffset)}`).join(", ") || "unknown"],
    ["cmdline after", o.cmdlineAfter === null ? "(none)" : JSON.stringify(o.cmdlineAfter)],
    ["libvirt error", o.libvirt.error ?? "none"],
    ["xend error", o.xendError ?? "none"],
  ];
}

export interface CellDiff {
  xend: string;
  scenario: string;
  from: CellResult;
  to: CellResult;
  changes: { what: string; from: string; to: string }[];
}

export function diffResults(from: CellResult[], to: CellResult[]): CellDiff[] {
  const key = (r: CellResult) => `${r.xend}/${r.scenario}`;
  const toBy = new Map(to.map((r) => [key(r), r]));
  const out: CellDiff[] = [];
  for (const a of from) {
    const b = toBy.get(key(a));
    if (!b) continue;
    const oa = observed(a);
    const ob = observed(b);
    const changes = oa.flatMap(([what, va], i) => (va === ob[i][1] ? [] : [{ what, from: va, to: ob[i][1] }]));
    if (changes.length) out.push({ xend: a.xend, scenario: a.scenario, from: a, to: b, changes });
  }
  return out;
}

export const command: Command = {
  name: "diff",
  summary: "patch impact: the cells whose outcome changes between two libvirt versions",
  help: HELP,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseCommandArgs("diff", argv, {
      from: { type: "string" },
      to: { type: "string" },
      xend: { type: "string", multiple: true },
      scenario: { type: "string" },
    });
    if (!values.from || !values.to) throw new HarnessError("input.usage", "diff needs --from V and --to V (see 'xend-compat diff --help')");
    if (values.from === values.to) throw new HarnessError("input.usage", `--from and --to are the same (${values.from})`);
    const progress = stderrProgress(io, "recorded");
    const ex = await execute({ libvirt: [values.from, values.to], xend: listArg(values.xend), scenario: values.scenario, cwd: io.cwd, env: io.env, onProgress: progress.onProgress });
    progress.finish();
    const from = ex.results.filter((r) => r.libvirt === values.from);
    const to = ex.results.filter((r) => r.libvirt === values.to);
    const diffs = diffResults(from, to);
    const out: string[] = [`diff libvirt ${values.from} (${from[0]?.profileId}) → ${values.to} (${to[0]?.profileId}): ${diffs.length} of ${from.length} cells differ`];
    for (const d of diffs) {
      out.push("");
      const v = d.from.verdict === d.to.verdict ? d.to.verdict : `${d.from.verdict} → ${d.to.verdict}`;
      out.push(`xend ${d.xend} / ${d.scenario}: ${v}`);
      for (const c of d.changes.filter((c) => c.what !== "verdict")) {
        out.push(...wrap(`${c.what}: ${c.from} → ${c.to}`, 76, "    ").map((l) => `  ${l}`));
      }
      if (d.from.verdict !== d.to.verdict) out.push(...wrap(`now: ${d.to.reason}`, 76, "    ").map((l) => `  ${l}`));
    }
    const sa = supportAnswers(from);
    const sb = new Map(supportAnswers(to).map((s) => [s.xend, s]));
    const moved = sa.filter((s) => sb.get(s.xend) && sb.get(s.xend)!.status !== s.status);
    out.push("");
    out.push(moved.length ? `support: ${moved.map((s) => `xend ${s.xend} ${s.status} → ${sb.get(s.xend)!.status}`).join(", ")}` : "support: unchanged");
    // What libvirt itself changed between the two releases: the rows of the table of changes.
    const ra = resolveProfile(values.from);
    const rb = resolveProfile(values.to);
    if (ra.release && rb.release && !ra.patch && !rb.patch) {
      const rows = changesBetween(ra.release, rb.release);
      out.push(`libvirt changes between ${ra.release} and ${rb.release} (docs/libvirt-releases.md): ${rows.length ? "" : "none"}`.trimEnd());
      for (const c of rows) {
        const on = has(rb.release, c.gate);
        out.push(...wrap(`${on ? "+" : "-"} ${c.gate} (${c.commit}, ${c.since}): ${c.what}`, 76, "    ").map((l) => `  ${l}`));
      }
    }
    out.push(...wrap(summaryLine(ex.results), 80, "  "));
    io.out(safeText(out.join("\n")));
    return ex.results.some((r) => r.verdict === "error") ? 1 : 0;
  },
};
