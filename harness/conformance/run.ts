/**
 * Run a libvirt conformance suite through a profile, the way that libvirt's own test drivers run it:
 * the input is loaded with the release's loader rule, converted (sexpr2xml: profile.parse, SXPR →
 * XML; xml2sexpr: profile.format, XML → SXPR), and compared with the loaded expected file exactly, or
 * tolerant of a missing final newline where the release's driver uses virTestCompareToFile.
 */
import { HarnessError, isHarnessError } from "../errors.js";
import type { Profile } from "../libvirt/index.js";
import { unifiedDiff } from "./diff.js";
import { loadShippedSuite, type CompareMode, type Direction, type LoaderRule, type Suite, type SuiteCase } from "./suite.js";

export interface CaseResult {
  direction: Direction;
  input: string;
  expected: string;
  /** What the profile was given (4 where the driver passes none). */
  xendConfigVersion: number;
  /** True: byte-equal as libvirt's driver compares. Null: not run (see `skipped`). */
  ok: boolean | null;
  /** Unified diff expected → got, or libvirt's refusal, when not ok. */
  diff?: string;
  /** Why the row was not run (only a non-default libvirt build runs it). */
  skipped?: string;
  line: number;
}

export interface SuiteRun {
  libvirt: string;
  profileId: string;
  suite: Suite;
  compare: Record<Direction, CompareMode>;
  loader: LoaderRule;
  /** Where the compare and loader rules came from. */
  rulesFrom: string;
  cases: CaseResult[];
}

export interface DirectionCounts {
  total: number;
  ok: number;
  failed: number;
  skipped: number;
}

const DEFAULT_RULES = { compare: { sexpr2xml: "exact", xml2sexpr: "exact" } as Record<Direction, CompareMode>, loader: { stripContinuations: true, maxBytes: null } as LoaderRule };

function load(bytes: Buffer, loader: LoaderRule, file: string): { text?: string; refused?: string } {
  if (loader.maxBytes !== null && bytes.length > loader.maxBytes) return { refused: `${file}: larger than the test loader's buffer (${loader.maxBytes} bytes); libvirt's driver fails to load it` };
  const text = bytes.toString("utf8");
  return { text: loader.stripContinuations ? text.replace(/\\\n/g, "") : text };
}

/**
 * The rules of the suite itself, else those of the shipped suite of the same release (a user's tree
 * of release V compares as V's drivers do), else exact comparison with continuations stripped.
 * A 5-column cases.tsv cannot mark rows only a RHEL 5 build runs; rows the release's own suite marks
 * are marked too.
 */
function rulesFor(suite: Suite, libvirt: string): { compare: Record<Direction, CompareMode>; loader: LoaderRule; from: string; marks?: SuiteCase[] } {
  const tag = suite.tag ?? `v${libvirt.replace(/^v/, "")}`;
  const needShipped = !suite.compare || !suite.loader || suite.cases.every((c) => c.buildCondition === undefined);
  let shipped: Suite | undefined;
  if (needShipped && !/[+:]/.test(tag)) {
    try {
      shipped = loadShippedSuite(tag);
    } catch {
      shipped = undefined;
    }
  }
  const compare = suite.compare ?? shipped?.compare ?? DEFAULT_RULES.compare;
  const loader = suite.loader ?? shipped?.loader ?? DEFAULT_RULES.loader;
  const from = suite.compare && suite.loader ? suite.where : shipped?.compare ? `the drivers of libvirt ${shipped.tag}` : "the default (exact comparison, backslash-newline pairs removed)";
  return { compare, loader, from, marks: shipped?.cases.filter((c) => c.buildCondition) };
}

export async function runSuite(profile: Profile, suite: Suite, libvirt: string): Promise<SuiteRun> {
  const rules = rulesFor(suite, libvirt);
  const cases: CaseResult[] = [];
  for (const c of suite.cases) {
    const version = c.xendConfigVersion ?? 4;
    const base = { direction: c.direction, input: c.input, expected: c.expected, xendConfigVersion: version, line: c.line };
    const mark =
      c.buildCondition ??
      rules.marks?.find((m) => m.direction === c.direction && m.input === c.input && m.expected === c.expected && m.xendConfigVersion === c.xendConfigVersion)?.buildCondition;
    if (mark && !mark.startsWith("!")) {
      cases.push({ ...base, ok: null, skipped: `only libvirt builds with ${mark} run this row; the profiles reproduce the default build` });
      continue;
    }
    const dir = `${c.direction}data`;
    const input = load(suite.read(`${dir}/${c.input}`), rules.loader, c.input);
    const expected = load(suite.read(`${dir}/${c.expected}`), rules.loader, c.expected);
    if (input.refused || expected.refused) {
      cases.push({ ...base, ok: false, diff: `${input.refused ?? expected.refused}\n` });
      continue;
    }
    let got: string;
    try {
      const opts = { xendConfigVersion: version, file: c.input };
      got = c.direction === "sexpr2xml" ? (await profile.parse(input.text!, opts)).xml : (await profile.format(input.text!, opts)).sxpr;
    } catch (e) {
      // libvirt's own test expects a result: a refusal (or our reader rejecting libvirt's own test
      // data) is this case failing, not bad input
      if (isHarnessError(e, "libvirt") || isHarnessError(e, "input.sxpr") || isHarnessError(e, "input.xml")) {
        cases.push({ ...base, ok: false, diff: `libvirt ${libvirt} (profile ${profile.id}) fails on ${c.input}: ${(e as HarnessError).oneLine()}\n` });
        continue;
      }
      throw e;
    }
    const want = expected.text!;
    if (rules.compare[c.direction] === "file" && want.endsWith("\n") && !got.endsWith("\n")) got += "\n";
    if (got === want) cases.push({ ...base, ok: true });
    else cases.push({ ...base, ok: false, diff: unifiedDiff(want, got, `${dir}/${c.expected} (libvirt's expected)`, `libvirt ${libvirt} (profile ${profile.id}) output for ${c.input}`) });
  }
  return { libvirt, profileId: profile.id, suite, compare: rules.compare, loader: rules.loader, rulesFrom: rules.from, cases };
}

export function countsOf(run: SuiteRun, direction: Direction): DirectionCounts {
  const cs = run.cases.filter((c) => c.direction === direction);
  return {
    total: cs.length,
    ok: cs.filter((c) => c.ok === true).length,
    failed: cs.filter((c) => c.ok === false).length,
    skipped: cs.filter((c) => c.ok === null).length,
  };
}

/** The JSON shape of `xend-compat conformance --json`: one entry per cases.tsv row. */
export function suiteRunJson(run: SuiteRun): { libvirt: string; profile: string; suite: string; cases: Record<string, unknown>[] } {
  return {
    libvirt: run.libvirt,
    profile: run.profileId,
    suite: run.suite.where,
    cases: run.cases.map((c) => ({
      direction: c.direction,
      input: c.input,
      expected: c.expected,
      xendConfigVersion: c.xendConfigVersion,
      ok: c.ok,
      ...(c.diff !== undefined ? { diff: c.diff } : {}),
      ...(c.skipped !== undefined ? { skipped: c.skipped } : {}),
    })),
  };
}

export interface ReleaseRun {
  tag: string;
  libvirt: string;
  /** Undefined when the release resolves to no profile (`error` says why). */
  run?: SuiteRun;
  error?: string;
}

/**
 * Every shipped suite through the profile of its own release (`v1.1.3` through `--libvirt 1.1.3`).
 * A release that resolves to no profile is reported with resolveProfile's message, not thrown.
 */
export async function runShippedSuites(resolve: (libvirt: string) => Profile, tags: string[]): Promise<ReleaseRun[]> {
  const out: ReleaseRun[] = [];
  for (const tag of tags) {
    const libvirt = tag.replace(/^v/, "");
    let profile: Profile;
    try {
      profile = resolve(libvirt);
    } catch (e) {
      if (e instanceof HarnessError && e.isInputError) {
        out.push({ tag, libvirt, error: e.oneLine() });
        continue;
      }
      throw e;
    }
    const suite = loadShippedSuite(tag);
    if (!suite) throw new HarnessError("input.usage", `no shipped suite ${tag}`);
    out.push({ tag, libvirt, run: await runSuite(profile, suite, libvirt) });
  }
  return out;
}
