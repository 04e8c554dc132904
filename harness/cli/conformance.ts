/** `xend-compat conformance`: a libvirt release's own sexpr2xml/xml2sexpr suite through that release's profile. */
import { resolve } from "node:path";
import pc from "picocolors";
import type { Command } from "./types.js";
import { countsOf, loadShippedSuite, loadSuiteDir, runShippedSuites, runSuite, shippedTags, suiteRunJson } from "../conformance/index.js";
import { HarnessError } from "../errors.js";
import { resolveProfile } from "../libvirt/index.js";
import { prepareProfiles, sourceSuiteDir } from "../libvirt/build/index.js";
import { safeText } from "../terminal.js";
import { parseCommandArgs } from "./args.js";

const HELP = `usage: xend-compat conformance --libvirt V [SUITE_DIR] [--json] [--diffs N]
       xend-compat conformance --all [--json]

Runs a libvirt conformance suite (libvirt's own tests/sexpr2xmltest.c and tests/xml2sexprtest.c cases)
through the profile --libvirt V resolves to, comparing byte for byte as that release's test drivers do:
the files loaded with its loader (backslash-newline pairs removed from 0.8.8 on), the output equal to the
expected file (from 1.2.15 on, virTestCompareToFile: a missing final newline is tolerated).

  SUITE_DIR   a directory holding cases.tsv, sexpr2xmldata/ and xml2sexprdata/ (the layout of
              fixtures/libvirt-tests/v0.9.11/: cases.tsv columns direction, input, expected,
              xend_config_version ('-': none, behaves as 4), domain_name, and optionally
              build_condition). An optional suite.json may give {"compare": {"sexpr2xml": "exact"|"file",
              "xml2sexpr": ...}, "loader": {"stripContinuations": bool, "maxBytes": N|null}}; without it
              the rules of release V's own drivers apply. Default: the shipped suite of release V
              (fixtures/libvirt-tests/releases/vV/, every release 0.6.2 ... 4.5.0).
  --libvirt V a libvirt release (e.g. 1.1.3), profile id or patch profile
  --json      print {"libvirt": V, "profile", "suite", "cases": [{"direction", "input", "expected",
              "xendConfigVersion", "ok", "diff"?, "skipped"?}]}, one entry per cases.tsv row; a row only
              a non-default build runs (#ifdef WITH_RHEL5_API) has "ok": null and says why in "skipped"
  --diffs N   how many mismatches to show as unified diffs (default 3; 0: none)
  --all       every shipped suite through the profile of its own release (v1.1.3 through --libvirt
              1.1.3): one line per release with passed/total per direction and the profile, or why the
              release resolves to none; --json: {"releases": [{"tag", "libvirt", "profile", "error"?,
              "sexpr2xml": {total, ok, failed, skipped}, "xml2sexpr": {...}, "failed": ["direction input vN", ...]}]}

Output: counts per direction (passed/total, skipped), then the first mismatches as unified diffs
(expected file first, profile output second).

exit codes: 0 every case passed; 1 some case did not; 2 bad input (unknown version, missing or
malformed suite files, named with their line)`;

export const command: Command = {
  name: "conformance",
  summary: "run a libvirt release's own sexpr2xml/xml2sexpr suite through its profile",
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      "conformance",
      argv,
      { libvirt: { type: "string" }, json: { type: "boolean" }, diffs: { type: "string" }, all: { type: "boolean" } },
      true,
    );
    if (values.all) {
      if (values.libvirt || positionals.length) throw new HarnessError("input.usage", "--all runs every shipped suite: give neither --libvirt nor SUITE_DIR with it");
      return runAll(Boolean(values.json), io.out);
    }
    if (!values.libvirt) throw new HarnessError("input.usage", "--libvirt V is required (see 'xend-compat conformance --help')");
    if (positionals.length > 1) throw new HarnessError("input.usage", `one SUITE_DIR at most, got ${positionals.length} (see 'xend-compat conformance --help')`);
    let maxDiffs = 3;
    if (values.diffs !== undefined) {
      if (!/^\d+$/.test(values.diffs)) throw new HarnessError("input.usage", `--diffs must be a whole number, not '${values.diffs}'`);
      maxDiffs = Number(values.diffs);
    }
    const libvirt = values.libvirt.trim().replace(/^v(?=\d)/, "");
    const profile = resolveProfile(libvirt);
    // src:DIR: build the tree first (progress on stderr; a failing build is one error, exit 2).
    await prepareProfiles([profile], (l) => io.err(l));
    // src:DIR without a SUITE_DIR: the tree's own suite (its test data and its drivers' case lists).
    const fromTree = positionals.length ? undefined : sourceSuiteDir(libvirt, io.cwd, io.env);
    let suite;
    if (positionals.length) suite = loadSuiteDir(resolve(io.cwd, positionals[0]));
    else if (fromTree) suite = loadSuiteDir(fromTree);
    else {
      suite = loadShippedSuite(`v${libvirt}`);
      if (!suite) {
        const tags = shippedTags();
        throw new HarnessError(
          "input.usage",
          `no shipped suite for libvirt ${libvirt} (shipped: ${tags.length ? `${tags[0].slice(1)} ... ${tags[tags.length - 1].slice(1)}, every release` : "none"}); give a SUITE_DIR`,
        );
      }
    }
    const run = await runSuite(profile, suite, libvirt);
    const failed = run.cases.filter((c) => c.ok === false);
    if (values.json) {
      io.out(JSON.stringify(suiteRunJson(run), null, 2));
      return failed.length ? 1 : 0;
    }
    // names and diffs come from the suite's files: their control characters escaped (harness/terminal.ts)
    const out = io.out;
    const t = safeText;
    const c = pc.createColors(io.isTTY && !io.env.NO_COLOR);
    const from = suite.commit ? ` (${suite.source ?? "libvirt"} ${suite.commit.slice(0, 12)})` : "";
    out(`libvirt ${t(libvirt)} (profile ${t(profile.id)}) on ${t(suite.where)}${t(from)}`);
    out(`compare: sexpr2xml ${run.compare.sexpr2xml}, xml2sexpr ${run.compare.xml2sexpr}; loader ${run.loader.stripContinuations ? "removes backslash-newline pairs" : "reads files as they are"} (rules of ${t(run.rulesFrom)})`);
    for (const d of ["sexpr2xml", "xml2sexpr"] as const) {
      const n = countsOf(run, d);
      if (!n.total) continue;
      const status = n.failed ? c.red(`${n.failed} failed`) : c.green("all passed");
      out(`  ${d}: ${n.ok}/${n.total - n.skipped} passed, ${status}${n.skipped ? `, ${n.skipped} skipped (only a non-default build runs them)` : ""}`);
    }
    for (const f of failed.slice(0, maxDiffs)) {
      out("");
      out(c.bold(`${f.direction} ${t(f.input)} -> ${t(f.expected)} (xend config version ${f.xendConfigVersion}, cases.tsv line ${f.line}):`));
      out(t(f.diff ?? ""));
    }
    if (failed.length > maxDiffs) {
      const rest = failed.slice(maxDiffs);
      const names = rest.slice(0, 10).map((f) => `${f.direction} ${t(f.input)} (v${f.xendConfigVersion})`);
      out(`\n... ${rest.length} more mismatches (--diffs N shows more, --json all): ${names.join(", ")}${rest.length > 10 ? ", ..." : ""}`);
    }
    return failed.length ? 1 : 0;
  },
};

async function runAll(json: boolean, out: (s: string) => void): Promise<number> {
  const runs = await runShippedSuites(resolveProfile, shippedTags());
  const rows = runs.map((r) => {
    const failed = r.run ? r.run.cases.filter((c) => c.ok === false).map((c) => `${c.direction} ${c.input} v${c.xendConfigVersion}`) : [];
    return {
      tag: r.tag,
      libvirt: r.libvirt,
      profile: r.run?.profileId ?? null,
      ...(r.error ? { error: r.error } : {}),
      sexpr2xml: r.run ? countsOf(r.run, "sexpr2xml") : null,
      xml2sexpr: r.run ? countsOf(r.run, "xml2sexpr") : null,
      failed,
    };
  });
  const bad = rows.filter((r) => r.error || r.failed.length);
  if (json) out(JSON.stringify({ releases: rows }, null, 2));
  else {
    const cell = (n: { ok: number; total: number; skipped: number } | null) => (n ? `${n.ok}/${n.total - n.skipped}` : "-");
    out("| tag | profile | sexpr2xml ok/total | xml2sexpr ok/total | all pass |");
    out("| --- | --- | --- | --- | --- |");
    for (const r of rows) out(`| ${r.tag} | ${r.profile ?? "none"} | ${cell(r.sexpr2xml)} | ${cell(r.xml2sexpr)} | ${r.error ? "no profile" : r.failed.length ? "no" : "yes"} |`);
    out("");
    const unresolved = rows.filter((r) => r.error);
    if (unresolved.length) out(`${unresolved.length} releases resolve to no profile (${unresolved.map((r) => r.libvirt).join(", ")}); e.g. ${unresolved[0].error}`);
    out(`${rows.length - bad.length} of ${rows.length} releases pass every case of their own suite (rows only a WITH_RHEL5_API build runs are not counted)`);
  }
  return bad.length ? 1 : 0;
}
