/**
 * A tree's own SXPR test suite as data: the DO_TEST rows of its tests/sexpr2xmltest.c and
 * tests/xml2sexprtest.c (in their order, preprocessor branches of the default build only), its
 * tests/sexpr2xmldata and tests/xml2sexprdata, and how its harness loads and compares files. Written
 * as a suite directory in the layout of libvirt's suites under fixtures/ (cases.tsv, manifest.json and
 * the two data folders), so a conformance runner can run it like any shipped release suite; and run
 * here through a profile (`runSuite`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HarnessError } from "../../errors.js";
import type { Profile } from "../types.js";
import * as os from "node:os";
import { configVersionNames, DIRECTIONS, DoTestError, readDriver, readLoader, type DoTestDriver } from "./dotest.js";
import { inspectTree, type TreeInfo } from "./tree.js";

export interface SuiteCase {
  direction: "sexpr2xml" | "xml2sexpr";
  input: string;
  expected: string;
  /** The xendConfigVersion the driver passes ("-": the release has none; its code behaves as 4). */
  version: number | "-";
  name: string;
}

export interface TreeSuite {
  dir: string;
  cases: SuiteCase[];
  /** The tree's loader removes trailing backslash-newline pairs. */
  stripContinuations: boolean;
  /** `file`: the 1.3.1+ compare, which adds a newline to the output when the expected file ends in one. */
  compare: { sexpr2xml: "exact" | "file"; xml2sexpr: "exact" | "file" };
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Read the tree's own suite (without copying anything): the DO_TEST rows of a default build, in order. */
export function readTreeSuite(treeDir: string): Omit<TreeSuite, "dir"> {
  // XEND_CONFIG_VERSION_* names some releases' rows use (0.9.10 to 1.3.0).
  const names = configVersionNames(
    ["src/xenxs/xen_sxpr.h", "src/xenconfig/xen_sxpr.h", "src/xen/xend_internal.h"].map((f) => readText(path.join(treeDir, f)) ?? "").join("\n"),
  );
  const cases: SuiteCase[] = [];
  const compare = { sexpr2xml: "exact", xml2sexpr: "exact" } as TreeSuite["compare"];
  for (const d of DIRECTIONS) {
    const src = readText(path.join(treeDir, d.driver));
    if (src === undefined) throw new HarnessError("input.tree", `${path.join(treeDir, d.driver)}: missing (the tree's own SXPR test driver)`);
    let driver: DoTestDriver;
    try {
      driver = readDriver(src, d.driver, names);
    } catch (e) {
      if (e instanceof DoTestError) throw new HarnessError("input.tree", `${path.join(treeDir, d.driver)}: cannot read its DO_TEST rows: ${e.message}`);
      throw e;
    }
    compare[d.direction] = driver.compare ?? "exact";
    // File names from the driver's own patterns ("%s/sexpr2xmldata/sexpr2xml-%s.sexpr", info->input).
    const pattern = (ext: string, fields: string[]) => driver.paths.find((x) => x.dir === d.dir && x.ext === ext) ?? { prefix: `${d.direction}-`, field: fields.find((f) => f) ?? "input" };
    const pIn = pattern(d.inputExt, ["input"]);
    const pExp = pattern(d.expectedExt, ["output"]);
    const field = (info: Record<string, string | number>, f: string, alt: string) => info[f] ?? info[alt];
    for (const { info, live } of driver.rows) {
      if (!live) continue;
      const v = info.version;
      cases.push({
        direction: d.direction,
        input: `${pIn.prefix}${field(info, pIn.field, "in")}${d.inputExt}`,
        expected: `${pExp.prefix}${field(info, pExp.field, "out")}${d.expectedExt}`,
        version: typeof v === "number" ? v : "-",
        name: d.hasName && info.name !== undefined ? String(info.name) : "-",
      });
    }
  }
  const testutils = readText(path.join(treeDir, "tests/testutils.c"));
  const strip = testutils === undefined ? false : readLoader(testutils, treeDir, []).stripContinuations;
  return { cases, stripContinuations: strip, compare };
}

/**
 * Write the tree's suite to `outDir` (cases.tsv, manifest.json, sexpr2xmldata/, xml2sexprdata/), the
 * layout of libvirt's suites under fixtures/. The data is the tree's as it is now (uncommitted
 * changes included), labelled with its commit and change hash.
 */
export function suiteFromTree(tree: TreeInfo, outDir: string): TreeSuite {
  const s = readTreeSuite(tree.dir);
  fs.mkdirSync(outDir, { recursive: true });
  for (const d of ["sexpr2xmldata", "xml2sexprdata"]) {
    fs.rmSync(path.join(outDir, d), { recursive: true, force: true });
    fs.cpSync(path.join(tree.dir, "tests", d), path.join(outDir, d), { recursive: true });
  }
  const header = "direction\tinput\texpected\txend_config_version\tdomain_name\tbuild_condition\n";
  fs.writeFileSync(path.join(outDir, "cases.tsv"), header + s.cases.map((c) => [c.direction, c.input, c.expected, c.version, c.name, "-"].join("\t") + "\n").join(""));
  fs.writeFileSync(
    path.join(outDir, "manifest.json"),
    JSON.stringify(
      {
        tag: `src:${tree.version}`,
        version: tree.version,
        source: tree.realDir,
        commit: tree.commit,
        uncommitted: tree.dirty,
        ref: "working tree",
        loader: { stripContinuations: s.stripContinuations, maxBytes: null },
        compare: s.compare,
      },
      null,
      2,
    ) + "\n",
  );
  // The rules of the tree's own drivers, in the form the conformance command reads (suite.json).
  fs.writeFileSync(path.join(outDir, "suite.json"), JSON.stringify({ compare: s.compare, loader: { stripContinuations: s.stripContinuations, maxBytes: null } }, null, 2) + "\n");
  return { dir: outDir, ...s };
}

/**
 * For `conformance --libvirt src:DIR` without a SUITE_DIR: the tree's own suite written to a fresh
 * temporary directory (its path), or undefined when `version` is not a source tree.
 */
export function sourceSuiteDir(version: string, cwd: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!version.trim().startsWith("src:")) return undefined;
  const tree = inspectTree(version.trim().slice(4), cwd, env.XEND_COMPAT_GNULIB || undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xend-compat-suite-"));
  suiteFromTree(tree, dir);
  return dir;
}

export interface SuiteCaseResult {
  case: SuiteCase;
  pass: boolean;
  /** The first differing line, or the error. */
  detail?: string;
}

/** Run a suite through a profile as the tree's own harness would (its loader and compare rules). */
export async function runSuite(profile: Profile, suite: TreeSuite): Promise<SuiteCaseResult[]> {
  const load = (f: string) => {
    const t = fs.readFileSync(f, "utf8");
    return suite.stripContinuations ? t.replace(/\\\n/g, "") : t;
  };
  const out: SuiteCaseResult[] = [];
  for (const c of suite.cases) {
    const dir = path.join(suite.dir, c.direction === "sexpr2xml" ? "sexpr2xmldata" : "xml2sexprdata");
    let input: string;
    let expected: string;
    try {
      input = load(path.join(dir, c.input));
      expected = load(path.join(dir, c.expected));
    } catch (e) {
      out.push({ case: c, pass: false, detail: `missing file: ${(e as Error).message}` });
      continue;
    }
    const opts = { xendConfigVersion: c.version === "-" ? 4 : c.version, file: c.input };
    try {
      let got = c.direction === "sexpr2xml" ? (await profile.parse(input, opts)).xml : (await profile.format(input, opts)).sxpr;
      if (suite.compare[c.direction] === "file" && expected.endsWith("\n") && !got.endsWith("\n")) got += "\n";
      if (got === expected) out.push({ case: c, pass: true });
      else {
        const a = got.split("\n");
        const b = expected.split("\n");
        let i = 0;
        while (i < a.length && a[i] === b[i]) i++;
        out.push({ case: c, pass: false, detail: `line ${i + 1}: got ${JSON.stringify(a[i] ?? "")}, expected ${JSON.stringify(b[i] ?? "")}` });
      }
    } catch (e) {
      out.push({ case: c, pass: false, detail: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}
