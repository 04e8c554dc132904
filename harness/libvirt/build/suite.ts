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

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, " ")).replace(/(^|[^:"])\/\/[^\n]*/g, "$1");
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      cur += s.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function cArg(a: string): string | number {
  if (/^-?\d+$/.test(a)) return Number(a);
  const parts = [...a.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
  if (parts.length) return parts.join("");
  return a; // a macro name (e.g. XEND_CONFIG_VERSION_3_0_2): resolved below
}

/** The enum values of XEND_CONFIG_VERSION_* (xen_sxpr.h, 0.9.10 to 1.3.0). */
function configVersionNames(tree: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of ["src/xenxs/xen_sxpr.h", "src/xenconfig/xen_sxpr.h", "src/xen/xend_internal.h"]) {
    const t = (() => {
      try {
        return fs.readFileSync(path.join(tree, f), "utf8");
      } catch {
        return "";
      }
    })();
    for (const m of t.matchAll(/(XEND_CONFIG_VERSION_\w+)\s*=\s*(\d+)/g)) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** DO_TEST rows of one test driver, mapped through the macro's parameters to the testInfo fields. */
function driverRows(tree: string, file: string): { rows: Record<string, string | number>[]; compare: "exact" | "file" } {
  let src: string;
  try {
    src = fs.readFileSync(path.join(tree, file), "utf8");
  } catch {
    throw new HarnessError("input.tree", `${path.join(tree, file)}: missing (the tree's own SXPR test driver)`);
  }
  const code = stripComments(src);
  const names = configVersionNames(tree);
  const def = /#\s*define\s+DO_TEST\s*\(([^)]*)\)((?:[^\n]*\\\n)*[^\n]*)/.exec(code);
  const st = /struct\s+testInfo\s*\{([^}]*)\}/.exec(code);
  if (!def || !st) throw new HarnessError("input.tree", `${file}: cannot read its DO_TEST macro`);
  const params = def[1].split(",").map((s) => s.trim());
  const fields = st[1]
    .split(";")
    .map((d) => d.trim())
    .filter(Boolean)
    .map((d) => /(\w+)\s*$/.exec(d)![1]);
  const init = /struct\s+testInfo\s+info\s*=\s*\{([^}]*)\}/.exec(def[2]);
  // field name -> parameter index (the initialiser lists parameters in field order)
  const map: Record<string, number> = {};
  if (init) {
    init[1]
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .forEach((p, k) => {
        map[fields[k]] = params.indexOf(p);
      });
  } else params.forEach((p, k) => (map[p] = k));
  const rows: Record<string, string | number>[] = [];
  const stack: boolean[] = [];
  const live = () => stack.every(Boolean);
  const body = code.slice(def.index + def[0].length);
  let pending = "";
  for (const line of body.split("\n")) {
    const pp = /^\s*#\s*(ifdef|ifndef|if|else|elif|endif)\b\s*(.*)$/.exec(line);
    if (pp) {
      // The default build: WITH_* options that are not Xen's are off; `#if 0` is off.
      const cond = pp[2].trim();
      if (pp[1] === "ifdef" || pp[1] === "if") stack.push(/^WITH_XEN\b|^1$/.test(cond));
      else if (pp[1] === "ifndef") stack.push(!/^WITH_XEN\b/.test(cond));
      else if (pp[1] === "else") stack.push(!stack.pop());
      else if (pp[1] === "endif") stack.pop();
      continue;
    }
    if (!live()) continue;
    pending += line + "\n";
    for (;;) {
      const m = /\bDO_TEST\s*\(/.exec(pending);
      if (!m) {
        pending = "";
        break;
      }
      let depth = 0;
      let end = -1;
      for (let i = m.index + m[0].length - 1; i < pending.length; i++) {
        if (pending[i] === '"') {
          i++;
          while (i < pending.length && pending[i] !== '"') i += pending[i] === "\\" ? 2 : 1;
        } else if (pending[i] === "(") depth++;
        else if (pending[i] === ")" && --depth === 0) {
          end = i;
          break;
        }
      }
      if (end < 0) {
        pending = pending.slice(m.index);
        break;
      }
      const args = splitTopLevel(pending.slice(m.index + m[0].length, end)).map(cArg);
      const row: Record<string, string | number> = {};
      for (const [f, k] of Object.entries(map)) {
        const v = args[k];
        row[f] = typeof v === "string" && v in names ? names[v] : v;
      }
      rows.push(row);
      pending = pending.slice(end + 1);
    }
  }
  const compare = /\bvirt?TestCompareToFile\s*\(/.test(code) ? "file" : "exact";
  return { rows, compare };
}

/** Read the tree's own suite (without copying anything). */
export function readTreeSuite(treeDir: string): Omit<TreeSuite, "dir"> {
  const s2x = driverRows(treeDir, "tests/sexpr2xmltest.c");
  const x2s = driverRows(treeDir, "tests/xml2sexprtest.c");
  const pick = (r: Record<string, string | number>, ...keys: string[]) => keys.map((k) => r[k]).find((v) => v !== undefined);
  const cases: SuiteCase[] = [];
  for (const r of s2x.rows) {
    cases.push({ direction: "sexpr2xml", input: `sexpr2xml-${pick(r, "input", "in")}.sexpr`, expected: `sexpr2xml-${pick(r, "output", "out")}.xml`, version: (pick(r, "version") as number) ?? "-", name: "-" });
  }
  for (const r of x2s.rows) {
    cases.push({
      direction: "xml2sexpr",
      input: `xml2sexpr-${pick(r, "input", "in")}.xml`,
      expected: `xml2sexpr-${pick(r, "output", "out")}.sexpr`,
      version: (pick(r, "version") as number) ?? "-",
      name: String(pick(r, "name") ?? "-"),
    });
  }
  let testutils = "";
  try {
    testutils = fs.readFileSync(path.join(treeDir, "tests/testutils.c"), "utf8");
  } catch {
    /* none */
  }
  const strip = /backslash-newline/.test(testutils) || /\[len\s*-\s*2\]\s*==\s*'\\\\'/.test(testutils);
  return { cases, stripContinuations: strip, compare: { sexpr2xml: s2x.compare, xml2sexpr: x2s.compare } };
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
