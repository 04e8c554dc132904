/**
 * Reading libvirt's two SXPR test drivers (tests/sexpr2xmltest.c, tests/xml2sexprtest.c) and its test
 * loader (tests/testutils.c) as data: our own small reader of the few C constructs they use (comments,
 * string literals, `#define DO_TEST(...)` with its `struct testInfo info = {...}`, the DO_TEST calls
 * with the preprocessor conditions around them, the data file name patterns, how results are
 * compared). One reader for ci/extract-libvirt-suites.ts (every release in git history) and for
 * `src:DIR` trees (./suite.ts), so the two cannot read the same driver differently.
 */

export interface DoTestRow {
  /** `struct testInfo` field -> the call's argument (adjacent string literals joined, or an integer). */
  info: Record<string, string | number>;
  /** The preprocessor condition the call sits under, `A && !B` ("" when none). */
  condition: string;
  /** Compiled in a default build: every condition is a WITH_XEN* option or `1`, negations the other way round. */
  live: boolean;
}

export interface DoTestDriver {
  rows: DoTestRow[];
  /** The helper's data file names: `"%s/<dir>/<prefix>%s<ext>", abs_srcdir, info-><field>`. */
  paths: { dir: string; prefix: string; ext: string; field: string }[];
  /**
   * `file`: virTestCompareToFile (adds a newline to the output when the expected file ends in one);
   * `exact`: STRNEQ; null: neither is seen (the extractor refuses such a driver; a src:DIR tree takes exact).
   */
  compare: "exact" | "file" | null;
}

export class DoTestError extends Error {}

/** Block and line comments blanked (newlines kept, so line structure stays), outside string literals. */
export function stripComments(src: string): string {
  let out = "";
  for (let i = 0; i < src.length; ) {
    const c = src[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === "\\" ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
    } else if (src.startsWith("/*", i)) {
      const j = src.indexOf("*/", i + 2);
      const body = src.slice(i, j < 0 ? src.length : j + 2);
      out += body.replace(/[^\n]/g, " ");
      i = j < 0 ? src.length : j + 2;
    } else if (src.startsWith("//", i)) {
      const j = src.indexOf("\n", i);
      i = j < 0 ? src.length : j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** A call's arguments split at top-level commas (parentheses and string literals kept whole). */
export function splitArgs(s: string): string[] {
  const args: string[] = [];
  let cur = "";
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      cur += s.slice(i, j + 1);
      i = j;
    } else if (c === "(") (depth++, (cur += c));
    else if (c === ")") (depth--, (cur += c));
    else if (c === "," && depth === 0) (args.push(cur.trim()), (cur = ""));
    else cur += c;
  }
  if (cur.trim()) args.push(cur.trim());
  return args;
}

/** A C argument: adjacent string literals joined (escapes undone), an integer, or a known macro name. */
export function cValue(arg: string, where: string, names: Record<string, number> = {}): string | number {
  if (/^-?\d+$/.test(arg)) return Number(arg);
  if (arg in names) return names[arg];
  const parts = [...arg.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
  if (parts.length && arg.replace(/"((?:[^"\\]|\\.)*)"/g, "").trim() === "") return parts.join("").replace(/\\(.)/g, "$1");
  throw new DoTestError(`${where}: cannot read argument ${arg}`);
}

/** The values of `XEND_CONFIG_VERSION_* = N` in a header's text (0.9.10 to 1.3.0 name the versions). */
export function configVersionNames(headerText: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of headerText.matchAll(/(XEND_CONFIG_VERSION_\w+)\s*=\s*(\d+)/g)) out[m[1]] = Number(m[2]);
  return out;
}

const defaultBuild = (name: string) => /^WITH_XEN\b|^1$/.test(name);

/**
 * The DO_TEST rows of one driver: each call's arguments mapped to the fields of `struct testInfo`
 * (through the macro's parameter list and its `struct testInfo info = { ... }`; without that
 * initialiser, the parameters in field order), with the preprocessor condition it sits under. Rows
 * under `#if 0` are left out. `names` resolves macro arguments (XEND_CONFIG_VERSION_*).
 */
export function readDriver(src: string, where: string, names: Record<string, number> = {}): DoTestDriver {
  const code = stripComments(src);
  const structM = /struct\s+testInfo\s*\{([^}]*)\}/.exec(code);
  if (!structM) throw new DoTestError(`${where}: no struct testInfo`);
  const fields = structM[1]
    .split(";")
    .map((d) => d.trim())
    .filter(Boolean)
    .map((d) => /(\w+)\s*$/.exec(d)![1]);
  const defM = /#\s*define\s+DO_TEST\s*\(([^)]*)\)((?:[^\n]*\\\n)*[^\n]*)/.exec(code);
  if (!defM) throw new DoTestError(`${where}: no #define DO_TEST`);
  const params = defM[1].split(",").map((s) => s.trim());
  const initM = /struct\s+testInfo\s+info\s*=\s*\{([^}]*)\}/.exec(defM[2]);
  // field -> macro parameter index
  const fieldParam: Record<string, number> = {};
  if (initM) {
    initM[1]
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .forEach((p, k) => {
        const idx = params.indexOf(p);
        if (idx < 0) throw new DoTestError(`${where}: DO_TEST initialiser ${p} is not a parameter`);
        fieldParam[fields[k]] = idx;
      });
  } else params.forEach((p, k) => (fieldParam[p] = k));
  const body = code.slice(defM.index + defM[0].length);
  const rows: DoTestRow[] = [];
  const conds: { name: string; negated: boolean }[] = [];
  let pending = "";
  for (const line of body.split("\n")) {
    const pp = /^\s*#\s*(ifdef|ifndef|if|else|elif|endif)\b\s*(.*)$/.exec(line);
    if (pp) {
      const [, kw, rest] = pp;
      if (kw === "ifdef" || kw === "if") conds.push({ name: rest.trim(), negated: false });
      else if (kw === "ifndef") conds.push({ name: rest.trim(), negated: true });
      else if (kw === "else") {
        if (!conds.length) throw new DoTestError(`${where}: #else without #if`);
        conds[conds.length - 1].negated = !conds[conds.length - 1].negated;
      } else if (kw === "elif") throw new DoTestError(`${where}: #elif is not understood`);
      else conds.pop();
      continue;
    }
    pending += (pending ? "\n" : "") + line;
    // complete calls of DO_TEST(...) on the pending text
    for (;;) {
      const m = /\bDO_TEST\s*\(/.exec(pending);
      if (!m) {
        pending = "";
        break;
      }
      let depth = 0;
      let end = -1;
      for (let i = m.index + m[0].length - 1; i < pending.length; i++) {
        const c = pending[i];
        if (c === '"') {
          i++;
          while (i < pending.length && pending[i] !== '"') i += pending[i] === "\\" ? 2 : 1;
        } else if (c === "(") depth++;
        else if (c === ")" && --depth === 0) {
          end = i;
          break;
        }
      }
      if (end < 0) {
        pending = pending.slice(m.index);
        break;
      }
      const args = splitArgs(pending.slice(m.index + m[0].length, end)).map((a) => cValue(a, where, names));
      if (args.length !== params.length) throw new DoTestError(`${where}: DO_TEST with ${args.length} arguments, the macro takes ${params.length}`);
      const info: Record<string, string | number> = {};
      for (const [f, idx] of Object.entries(fieldParam)) info[f] = args[idx];
      // "#if 0" rows are never compiled
      if (!conds.some((c) => c.name === "0" && !c.negated)) {
        const active = conds.filter((c) => !c.negated).map((c) => c.name);
        const inactive = conds.filter((c) => c.negated).map((c) => c.name);
        const live = conds.every((c) => defaultBuild(c.name) !== c.negated);
        rows.push({ info, condition: [...active, ...inactive.map((n) => `!${n}`)].join(" && "), live });
      }
      pending = pending.slice(end + 1);
    }
  }
  const paths = [...code.matchAll(/"%s\/(\w+)\/([\w-]*)%s(\.\w+)"\s*,\s*abs_srcdir\s*,\s*info->(\w+)/g)].map((m) => ({ dir: m[1], prefix: m[2], ext: m[3], field: m[4] }));
  const compare = /\bvirt?TestCompareToFile\s*\(/.test(code) ? "file" : /\bSTRNEQ\s*\(/.test(code) ? "exact" : null;
  return { rows, paths, compare };
}

/** The loader of tests/testutils.c: strips trailing backslash-newline pairs or not; a fixed buffer (MAX_FILE) or not. */
export function readLoader(testutils: string | undefined, where: string, driverSources: string[]): { stripContinuations: boolean; maxBytes: number | null } {
  if (!testutils) throw new DoTestError(`${where}: no tests/testutils.c`);
  const strips = /remove trailing backslash-newline pair/.test(testutils) || /tmp\[len-2\]\s*==\s*'\\\\'/.test(testutils);
  const maxFile = driverSources.map((s) => /#define\s+MAX_FILE\s+(\d+)/.exec(s)).find(Boolean);
  return { stripContinuations: strips, maxBytes: maxFile ? Number(maxFile[1]) - 1 : null };
}

/** The two drivers: where they live and their data file names. */
export const DIRECTIONS = [
  { direction: "sexpr2xml", driver: "tests/sexpr2xmltest.c", dir: "sexpr2xmldata", inputExt: ".sexpr", expectedExt: ".xml", hasName: false },
  { direction: "xml2sexpr", driver: "tests/xml2sexprtest.c", dir: "xml2sexprdata", inputExt: ".xml", expectedExt: ".sexpr", hasName: true },
] as const;

export interface DoTestCase {
  direction: "sexpr2xml" | "xml2sexpr";
  input: string;
  expected: string;
  /** The xendConfigVersion as the row gives it ("-": the release's rows have none). */
  version: string;
  name: string;
  /** `WITH_RHEL5_API` for the alternative row of RHEL 5 builds, "-" otherwise. */
  build: string;
  /** Compiled in a default build (see DoTestRow.live). */
  live: boolean;
}

/** The cases of one driver, with file names from its own patterns. Refuses conditions other than WITH_RHEL5_API. */
export function casesOf(tag: string, d: (typeof DIRECTIONS)[number], driver: DoTestDriver): DoTestCase[] {
  const where = `${tag}:${d.driver}`;
  if (!driver.compare) throw new DoTestError(`${where}: cannot tell how the driver compares (neither STRNEQ nor virTestCompareToFile)`);
  const pathOf = (ext: string) => {
    const p = driver.paths.find((x) => x.dir === d.dir && x.ext === ext);
    if (!p) throw new DoTestError(`${where}: no file name pattern for ${d.dir}/*${ext}`);
    return p;
  };
  const pIn = pathOf(d.inputExt);
  const pExp = pathOf(d.expectedExt);
  return driver.rows.map(({ info, condition, live }) => {
    if (condition && condition !== "WITH_RHEL5_API" && condition !== "!WITH_RHEL5_API") throw new DoTestError(`${where}: DO_TEST under an unknown condition ${condition}`);
    const version = info.version;
    return {
      direction: d.direction,
      input: `${pIn.prefix}${info[pIn.field]}${pIn.ext}`,
      expected: `${pExp.prefix}${info[pExp.field]}${pExp.ext}`,
      version: version === undefined ? "-" : String(version),
      name: d.hasName && info.name !== undefined ? String(info.name) : "-",
      build: condition === "WITH_RHEL5_API" ? "WITH_RHEL5_API" : "-",
      live,
    };
  });
}
