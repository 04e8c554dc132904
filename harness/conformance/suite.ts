/**
 * A libvirt conformance suite: the cases of libvirt's own `sexpr2xmltest.c` / `xml2sexprtest.c` and
 * their data files, with how that libvirt's test driver loads and compares them. Two sources:
 * - a suite directory in the layout of `../shared/libvirt-tests/<tag>/` (`cases.tsv`,
 *   `sexpr2xmldata/`, `xml2sexprdata/`, optionally `suite.json` with the loader and compare rules);
 * - the shipped store (`fixtures/libvirt-tests/releases/<tag>/` + `blobs/`), one suite per release.
 * Malformed or missing suite files are HarnessError `input.file`, naming the file (and line).
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { HarnessError } from "../errors.js";

export type Direction = "sexpr2xml" | "xml2sexpr";
/** `exact`: STRNEQ of output and loaded file. `file`: virTestCompareToFile (a missing final newline is added). */
export type CompareMode = "exact" | "file";

export interface LoaderRule {
  /** The test loader removes every trailing backslash-newline pair (libvirt 0.8.8 on). */
  stripContinuations: boolean;
  /** Files larger than this fail to load (libvirt ≤ 0.8.7's fixed buffer); null: no limit. */
  maxBytes: number | null;
}

export interface SuiteCase {
  /** 1-based line in cases.tsv. */
  line: number;
  direction: Direction;
  input: string;
  expected: string;
  /** The xend config version the driver passes; undefined when it passes none (1.3.1 on: behaves as 4). */
  xendConfigVersion: number | undefined;
  domainName?: string;
  /** Set when only a non-default libvirt build runs the row (e.g. `WITH_RHEL5_API`). */
  buildCondition?: string;
}

export interface Suite {
  /** For messages: the directory, or `fixtures/libvirt-tests/releases/<tag>`. */
  where: string;
  /** The libvirt tag of a shipped suite. */
  tag?: string;
  source?: string;
  commit?: string;
  cases: SuiteCase[];
  /** Undefined when the directory does not say (then the runner uses the release's own rules). */
  compare?: Record<Direction, CompareMode>;
  loader?: LoaderRule;
  /** The raw bytes of a data file (`sexpr2xmldata/…` or `xml2sexprdata/…`); input.file when missing. */
  read(file: string): Buffer;
}

const HEADER = ["direction", "input", "expected", "xend_config_version", "domain_name"];

/** Read cases.tsv (5 columns as in ../shared/libvirt-tests, or 6 with build_condition). */
export function parseCasesTsv(text: string, file: string): SuiteCase[] {
  const lines = text.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  const head = (lines[0] ?? "").replace(/\r$/, "").split("\t");
  if (head.length < 5 || HEADER.some((h, i) => head[i] !== h) || (head.length === 6 && head[5] !== "build_condition") || head.length > 6) {
    throw new HarnessError("input.file", `expected the header '${HEADER.join("\\t")}[\\tbuild_condition]'`, { pos: { file, line: 1, column: 1 } });
  }
  const cases: SuiteCase[] = [];
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, "");
    if (raw.trim() === "") continue;
    const cols = raw.split("\t");
    const pos = { file, line: i + 1 };
    if (cols.length !== head.length) {
      throw new HarnessError("input.file", `${cols.length} tab-separated columns, the header has ${head.length}`, { pos: { ...pos, column: 1 } });
    }
    const [direction, input, expected, version, name, build] = cols;
    if (direction !== "sexpr2xml" && direction !== "xml2sexpr") {
      throw new HarnessError("input.file", `direction must be sexpr2xml or xml2sexpr, not '${direction}'`, { pos: { ...pos, column: 1 } });
    }
    const col = (k: number) => cols.slice(0, k).reduce((n, c) => n + c.length + 1, 1);
    const exts = direction === "sexpr2xml" ? [".sexpr", ".xml"] : [".xml", ".sexpr"];
    for (const [k, f, ext] of [[1, input, exts[0]], [2, expected, exts[1]]] as const) {
      if (!f || f.includes("/") || f.includes("\\") || f === "." || f === ".." || !f.endsWith(ext)) {
        throw new HarnessError("input.file", `${k === 1 ? "input" : "expected"} must be a ${ext} file name in ${direction}data/, not '${f}'`, { pos: { ...pos, column: col(k) } });
      }
    }
    if (!/^(\d+|-)$/.test(version ?? "")) {
      throw new HarnessError("input.file", `xend_config_version must be a whole number or '-', not '${version}'`, { pos: { ...pos, column: col(3) } });
    }
    if (build !== undefined && build !== "-" && !/^!?[A-Za-z_][A-Za-z0-9_]*$/.test(build)) {
      throw new HarnessError("input.file", `build_condition must be '-' or a preprocessor symbol, not '${build}'`, { pos: { ...pos, column: col(5) } });
    }
    cases.push({
      line: i + 1,
      direction,
      input,
      expected,
      xendConfigVersion: version === "-" ? undefined : Number(version),
      domainName: name && name !== "-" ? name : undefined,
      buildCondition: build && build !== "-" ? build : undefined,
    });
  }
  return cases;
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new HarnessError("input.file", `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { pos: { file } });
  }
}

function checkCompare(v: unknown, file: string): Record<Direction, CompareMode> | undefined {
  if (v === undefined) return undefined;
  const o = v as Record<string, unknown>;
  const ok = (x: unknown) => x === "exact" || x === "file";
  if (typeof v !== "object" || v === null || !ok(o.sexpr2xml) || !ok(o.xml2sexpr)) {
    throw new HarnessError("input.file", `'compare' must be {"sexpr2xml": "exact"|"file", "xml2sexpr": "exact"|"file"}`, { pos: { file } });
  }
  return { sexpr2xml: o.sexpr2xml as CompareMode, xml2sexpr: o.xml2sexpr as CompareMode };
}

function checkLoader(v: unknown, file: string): LoaderRule | undefined {
  if (v === undefined) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof v !== "object" || v === null || typeof o.stripContinuations !== "boolean" || !(o.maxBytes === null || (typeof o.maxBytes === "number" && o.maxBytes > 0))) {
    throw new HarnessError("input.file", `'loader' must be {"stripContinuations": true|false, "maxBytes": N|null}`, { pos: { file } });
  }
  return { stripContinuations: o.stripContinuations, maxBytes: o.maxBytes as number | null };
}

function readJson(file: string): Record<string, unknown> {
  const text = readText(file);
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not a JSON object");
    return v as Record<string, unknown>;
  } catch (e) {
    throw new HarnessError("input.file", `not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { pos: { file } });
  }
}

/** A suite directory in the layout of ../shared/libvirt-tests/<tag>/. */
export function loadSuiteDir(dir: string): Suite {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new HarnessError("input.file", `no such suite directory`, { pos: { file: dir } });
  }
  if (!st.isDirectory()) throw new HarnessError("input.file", `not a directory (a suite directory holds cases.tsv, sexpr2xmldata/, xml2sexprdata/)`, { pos: { file: dir } });
  const casesFile = path.join(dir, "cases.tsv");
  if (!existsSync(casesFile)) throw new HarnessError("input.file", `missing: a suite directory holds cases.tsv, sexpr2xmldata/ and xml2sexprdata/`, { pos: { file: casesFile } });
  const cases = parseCasesTsv(readText(casesFile), casesFile);
  const meta = existsSync(path.join(dir, "suite.json")) ? readJson(path.join(dir, "suite.json")) : {};
  const metaFile = path.join(dir, "suite.json");
  const suite: Suite = {
    where: dir,
    tag: typeof meta.tag === "string" ? meta.tag : undefined,
    source: typeof meta.source === "string" ? meta.source : undefined,
    commit: typeof meta.commit === "string" ? meta.commit : undefined,
    cases,
    compare: checkCompare(meta.compare, metaFile),
    loader: checkLoader(meta.loader, metaFile),
    read(file) {
      const p = path.join(dir, file);
      try {
        return readFileSync(p);
      } catch (e) {
        throw new HarnessError("input.file", `missing data file named by cases.tsv (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { pos: { file: p } });
      }
    },
  };
  checkFilesExist(suite, casesFile);
  return suite;
}

/** Every file a case names must exist before anything runs (bad input is reported whole, fast). */
function checkFilesExist(suite: Suite, casesFile: string): void {
  for (const c of suite.cases) {
    for (const f of [c.input, c.expected]) {
      const rel = `${c.direction}data/${f}`;
      try {
        suite.read(rel);
      } catch (e) {
        if (e instanceof HarnessError) {
          throw new HarnessError("input.file", `${e.pos?.file ?? rel}: missing, named by ${path.basename(casesFile)} line ${c.line}`, { pos: { file: casesFile, line: c.line } });
        }
        throw e;
      }
    }
  }
}

let root: string | undefined;
function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "xend-compat") return (root = dir);
      } catch {
        // not ours
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new HarnessError("internal", "cannot find xend-compat's package root (fixtures/libvirt-tests)");
    dir = up;
  }
}

/** The shipped store of every release's suite. */
export function storeDir(): string {
  return path.join(packageRoot(), "fixtures", "libvirt-tests");
}

/** The tags in the store (`v0.6.2` … `v4.5.0`), in release order. */
export function shippedTags(): string[] {
  const rel = path.join(storeDir(), "releases");
  if (!existsSync(rel)) return [];
  return readdirSync(rel)
    .filter((t) => existsSync(path.join(rel, t, "manifest.json")))
    .sort((a, b) => {
      const pa = a.slice(1).split(".").map(Number);
      const pb = b.slice(1).split(".").map(Number);
      for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
        const d = (pa[i] ?? -1) - (pb[i] ?? -1);
        if (d) return d;
      }
      return 0;
    });
}

/** The shipped suite of a libvirt tag (`v1.1.3`), or undefined when the store has none. */
export function loadShippedSuite(tag: string): Suite | undefined {
  // only release tags name a shipped suite (a patch profile or src:DIR has none)
  if (!/^v\d+(\.\d+)+$/.test(tag)) return undefined;
  const dir = path.join(storeDir(), "releases", tag);
  const manifestFile = path.join(dir, "manifest.json");
  if (!existsSync(manifestFile)) return undefined;
  const m = readJson(manifestFile);
  const files = m.files as Record<string, string> | undefined;
  if (!files || typeof files !== "object") throw new HarnessError("input.file", "manifest has no 'files'", { pos: { file: manifestFile } });
  const casesFile = path.join(dir, "cases.tsv");
  const blobs = path.join(storeDir(), "blobs");
  const suite: Suite = {
    where: path.relative(packageRoot(), dir) || dir,
    tag,
    source: typeof m.source === "string" ? m.source : undefined,
    commit: typeof m.commit === "string" ? m.commit : undefined,
    cases: parseCasesTsv(readText(casesFile), casesFile),
    compare: checkCompare(m.compare, manifestFile),
    loader: checkLoader(m.loader, manifestFile),
    read(file) {
      const sha = files[file];
      if (!sha) throw new HarnessError("input.file", `${file} is not in the manifest`, { pos: { file: manifestFile } });
      const p = path.join(blobs, sha);
      try {
        return readFileSync(p);
      } catch {
        throw new HarnessError("input.file", `blob of ${file} missing from the store`, { pos: { file: p } });
      }
    },
  };
  checkFilesExist(suite, casesFile);
  return suite;
}
