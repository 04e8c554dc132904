/**
 * Loading a matrix file: YAML (the `yaml` package's document API, so every node keeps its position),
 * then the one zod schema, then the checks that need the file system or several keys at once. Every
 * problem becomes a HarnessError `input.matrix` / `input.yaml` naming the file, line and column and
 * what was expected. See DECISIONS.md.
 */
import { existsSync, lstatSync } from "node:fs";
import { readTextFile } from "../fsutil.js";
import { confine } from "../safepath.js";
import * as path from "node:path";
import type { XmlElement as XElement } from "../xml/index.js";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from "yaml";
import type { z } from "zod";
import { HarnessError, type SourcePos } from "../errors.js";
import { clockMeaning, describeClock, readClockOf, resolveProfile, type ClockMeaning } from "../libvirt/index.js";
import { DOMParser, parseSimpleXml } from "../xml/index.js";
import { compileGlob, type Glob } from "./glob.js";
import { matrixSchema, type Check, type ClockInput, type MatrixInput, type StepInput, type Verdict } from "./schema.js";

export type Step =
  | { kind: "define" }
  | { kind: "start" }
  | { kind: "guest-set-rtc"; delta: number }
  | { kind: "guest-poweroff" }
  | { kind: "read" };

export type GuestType = "pv" | "hvm";

/** A scenario after loading: its domain XML read, its guest type derived, its intent resolved. */
export interface Scenario {
  id: string;
  description: string;
  /** Project-relative path of the domain XML. */
  domainFile: string;
  /** The domain XML text as in the file. */
  xml: string;
  guest: GuestType;
  /** The PV kernel command line (`<os><cmdline>`), or null. */
  cmdline: string | null;
  steps: Step[];
  /** The clock libvirt should show after the steps, by meaning. */
  intent: ClockMeaning;
  /** The intent as libvirt XML attributes text, for people. */
  intentText: string;
  checks: Check[];
  pos: SourcePos;
}

export interface Expectation {
  /** Cell-id glob. */
  cells: string;
  verdict: Verdict;
  reason: string;
  fixedBy?: string;
  report?: string;
  /** The problem shows only sometimes: `preserved` is as expected too (never an xpass). */
  flaky?: boolean;
  pos: SourcePos;
}

/** A parsed, validated matrix (not yet expanded into cells). */
export interface Matrix {
  /** Absolute path of the file. */
  file: string;
  name: string;
  description?: string;
  xend: string[];
  libvirt: string[];
  scenarios: Scenario[];
  include: string[];
  exclude: string[];
  expectations: Expectation[];
  /** Where each entry of `xend` is (same order), for errors about a version found later (e.g. a backend that has no such xend). */
  xendPos: SourcePos[];
}

export interface LoadOptions {
  /**
   * The project the matrix belongs to: its domain files must stay inside it (after resolving links).
   * Default: the nearest directory above the matrix file holding a package.json or an xend-compat
   * config, else the matrix file's own directory. Domain paths are relative to the matrix file.
   */
  root?: string;
  /** Name to show for the file in messages; default the path relative to the cwd or as given. */
  displayName?: string;
}

type PathElem = string | number;

interface Located {
  message: string;
  path: PathElem[];
  /** Point at the key of this map entry instead of its value (unknown keys). */
  key?: string;
}

/** Maps schema paths to positions in the YAML document. */
class Positions {
  constructor(
    private readonly doc: Document,
    private readonly lc: LineCounter,
    private readonly file: string,
  ) {}

  at(p: PathElem[], key?: string): SourcePos {
    let node: unknown = this.doc.contents;
    let best: [number, number, number] | undefined = rangeOf(node);
    for (const elem of p) {
      const next = child(node, elem);
      if (next === undefined) break;
      node = next.value;
      best = rangeOf(next.value) ?? rangeOf(next.key) ?? best;
    }
    if (key !== undefined) {
      const k = child(node, key);
      if (k) best = rangeOf(k.key) ?? best;
    }
    if (!best) return { file: this.file, line: 1, column: 1 };
    const { line, col } = this.lc.linePos(best[0]);
    return { file: this.file, line, column: col };
  }
}

function rangeOf(n: unknown): [number, number, number] | undefined {
  if (n && typeof n === "object" && "range" in n) {
    const r = (n as { range?: [number, number, number] | null }).range;
    return r ?? undefined;
  }
  return undefined;
}

function child(node: unknown, elem: PathElem): { key: unknown; value: unknown } | undefined {
  if (isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(elem)) return { key: item.key, value: item.value };
    }
    return undefined;
  }
  if (isSeq(node) && typeof elem === "number") {
    const v = node.items[elem];
    return v === undefined ? undefined : { key: undefined, value: v };
  }
  return undefined;
}

function matrixError(problems: { message: string; pos: SourcePos }[], code: "input.matrix" | "input.yaml" = "input.matrix"): HarnessError {
  const [first, ...rest] = problems;
  const more = rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? "s" : ""}: ${rest.map((r) => `${r.pos.line}:${r.pos.column} ${r.message}`).join("; ")})` : "";
  // One line whatever the problems quote (e.g. a complex YAML key printed as a multi-line flow map).
  const err = new HarnessError(code, (first.message + more).replace(/\s*\n\s*/g, " "), { pos: first.pos });
  (err as HarnessError & { problems?: unknown }).problems = problems;
  return err;
}

/** Every problem of a matrix error, for tests and tools. */
export function matrixProblems(e: unknown): { message: string; pos: SourcePos }[] {
  return ((e as { problems?: { message: string; pos: SourcePos }[] }).problems ?? []).slice();
}

function valueAtPath(data: unknown, p: PropertyKey[]): { found: boolean; parentIsMap: boolean } {
  let cur: unknown = data;
  for (let i = 0; i < p.length; i++) {
    if (cur === null || typeof cur !== "object") return { found: false, parentIsMap: false };
    const has = Object.prototype.hasOwnProperty.call(cur, p[i] as string);
    if (!has) return { found: false, parentIsMap: i === p.length - 1 && !Array.isArray(cur) };
    cur = (cur as Record<PropertyKey, unknown>)[p[i]];
  }
  return { found: true, parentIsMap: false };
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): Located[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => ({ message: `unknown key '${k}'`, path: issue.path as PathElem[], key: k }));
  }
  let message = issue.message;
  const at = valueAtPath(data, issue.path);
  if (!at.found && at.parentIsMap && issue.path.length) {
    const last = issue.path[issue.path.length - 1];
    message = `missing key '${String(last)}': ${message.replace(/^Invalid input: /, "").replace(/, received undefined$/, "")}`;
    return [{ message, path: issue.path.slice(0, -1) as PathElem[] }];
  }
  return [{ message: message.replace(/^Invalid input: /, ""), path: issue.path as PathElem[] }];
}

function toStep(s: StepInput): Step {
  if (typeof s === "string") return { kind: s } as Step;
  return { kind: "guest-set-rtc", delta: s["guest-set-rtc"] };
}

function clockAttrs(c: ClockInput): Record<string, string> {
  const a: Record<string, string> = { offset: c.offset };
  if (c.adjustment !== undefined) a.adjustment = String(c.adjustment);
  if (c.basis !== undefined) a.basis = c.basis;
  if (c.timezone !== undefined) a.timezone = c.timezone;
  return a;
}

interface DomainFacts {
  guest: GuestType;
  cmdline: string | null;
  name: boolean;
  /** The `<clock>` attributes, read from the same parse (as readClock reads them). */
  clock: Record<string, string>;
}

function domainFacts(xml: string): DomainFacts | string {
  let problem: string | undefined;
  // Well-formed XML in one pass; anything else again, for its first problem (harness/xml).
  const fast = parseSimpleXml(xml);
  if (fast) return withClock(factsOf(fast.documentElement as unknown as XElement), fast);
  let doc;
  try {
    doc = new DOMParser({
      onError: (level: string, msg: string) => {
        if (level !== "warning" && !problem) problem = msg;
      },
    }).parseFromString(xml, "text/xml");
  } catch (e) {
    // The reader stops at the first problem when the callback throws; it does not here, but be safe.
    return `not well-formed XML: ${(problem ?? (e as Error).message).split("\n")[0]}`;
  }
  if (problem) return `not well-formed XML: ${problem.split("\n")[0]}`;
  return withClock(factsOf(doc.documentElement as unknown as XElement), doc);
}

function withClock(facts: Omit<DomainFacts, "clock"> | string, doc: unknown): DomainFacts | string {
  return typeof facts === "string" ? facts : { ...facts, clock: readClockOf(doc as Parameters<typeof readClockOf>[0]).attrs };
}

function factsOf(root: XElement | null): Omit<DomainFacts, "clock"> | string {
  if (!root || root.tagName !== "domain") return "not a libvirt domain XML (expected a <domain> root element)";
  const first = (parent: XElement, tag: string): XElement | null => {
    for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === 1 && (n as XElement).tagName === tag) return n as XElement;
    return null;
  };
  const os = first(root, "os");
  const type = os ? first(os, "type")?.textContent?.trim() : undefined;
  const cmd = os ? first(os, "cmdline") : null;
  return { guest: type === "hvm" ? "hvm" : "pv", cmdline: cmd ? (cmd.textContent ?? "") : null, name: first(root, "name") !== null };
}

/** Load and validate a matrix file. Throws HarnessError input.* with file:line:column. */
export function loadMatrix(file: string, opts: LoadOptions = {}): Matrix {
  const abs = path.resolve(file);
  const root = path.resolve(opts.root ?? matrixProjectRoot(abs));
  const shown = opts.displayName ?? file;
  // A regular file only: a directory or a FIFO given as --matrix is one line, exit 2 (never a hang).
  const text = readTextFile(abs, "matrix file", shown);
  return parseMatrix(text, { ...opts, root, file: abs, displayName: shown });
}

/** Deepest nesting a matrix may have (flow brackets, block indentation, `- - -` on one line): a matrix needs a handful. */
export const MAX_MATRIX_NESTING = 64;

/**
 * Where a matrix text nests deeper than MAX_MATRIX_NESTING, before the YAML reader (recursive) would
 * run out of stack: flow `[`/`{` outside quotes and comments, indentation of more than twice as many
 * columns, or a run of compact `- ` entries. A linear scan; null when the text is shallow.
 */
function nestingTooDeep(text: string): { message: string; line: number; column: number } | null {
  let line = 1;
  let col = 0;
  let flow = 0;
  let quote = "";
  let lineStart = true;
  let indent = 0;
  let dashes = 0;
  const deep = (what: string) => ({ message: `nested deeper than ${MAX_MATRIX_NESTING} levels (${what})`, line, column: col });
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    col++;
    if (c === "\n") {
      line++;
      col = 0;
      lineStart = true;
      indent = 0;
      dashes = 0;
      if (quote === "'" || quote === '"') continue; // a quoted scalar may span lines
      continue;
    }
    if (quote) {
      if (quote === '"' && c === "\\") {
        i++;
        col++;
      } else if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") {
          i++;
          col++;
        } else quote = "";
      }
      continue;
    }
    if (lineStart) {
      if (c === " ") {
        if (++indent > 2 * MAX_MATRIX_NESTING) return deep("indentation");
        continue;
      }
      if (c === "-" && (text[i + 1] === " " || text[i + 1] === "\n" || i + 1 === text.length)) {
        if (++dashes > MAX_MATRIX_NESTING) return deep("'- ' entries");
        continue;
      }
      lineStart = false;
    }
    if (c === "#" && (col === 1 || /\s/.test(text[i - 1]))) {
      while (i + 1 < text.length && text[i + 1] !== "\n") i++;
      continue;
    }
    if (c === '"' || c === "'") {
      if (flow > 0 || col === 1 || /[\s,[{:-]/.test(text[i - 1])) quote = c;
      continue;
    }
    if (c === "[" || c === "{") {
      if (++flow > MAX_MATRIX_NESTING) return deep("brackets");
    } else if ((c === "]" || c === "}") && flow > 0) flow--;
  }
  return null;
}

/** Validate matrix text (exported for tests; `file` is used for messages and as the matrix's file). */
export function parseMatrix(text: string, opts: LoadOptions & { file: string }): Matrix {
  const root = path.resolve(opts.root ?? matrixProjectRoot(path.resolve(opts.file)));
  const base = path.dirname(path.resolve(opts.file));
  const shown = opts.displayName ?? opts.file;
  const tooDeep = nestingTooDeep(text);
  if (tooDeep) throw matrixError([{ message: tooDeep.message, pos: { file: shown, line: tooDeep.line, column: tooDeep.column } }], "input.yaml");
  const lc = new LineCounter();
  // logLevel error: no process warnings on stderr (e.g. for complex keys); problems are reported as errors.
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, logLevel: "error" });
  if (doc.errors.length) {
    throw matrixError(
      doc.errors.map((e) => {
        const lp = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
        const msg = e.code === "DUPLICATE_KEY" ? "duplicate key (every key may appear once in a mapping)" : e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        return { message: msg, pos: { file: shown, line: lp.line, column: lp.col } };
      }),
      "input.yaml",
    );
  }
  const pos = new Positions(doc, lc, shown);
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (e) {
    // e.g. an alias (*name) whose anchor is not set before it, or an alias bomb (the yaml package
    // stops after expanding 100 aliases): point at the first alias that does not resolve, else the first.
    let at: SourcePos = { file: shown };
    const bomb = /Excessive alias count/.test((e as Error).message);
    visit(doc, {
      Alias(_k, node) {
        if (at.line === undefined && node.range && (bomb || !node.resolve(doc))) {
          const lp = lc.linePos(node.range[0]);
          at = { file: shown, line: lp.line, column: lp.col };
        }
      },
    });
    const message = bomb ? "too many aliases expanded (an alias bomb?): a matrix may expand at most 100" : (e as Error).message.split("\n")[0];
    throw matrixError([{ message, pos: at }], "input.yaml");
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw matrixError([{ message: "expected a mapping with keys name, xend, libvirt, scenarios", pos: pos.at([]) }]);
  }
  const parsed = matrixSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((i) => describeIssue(i, data)).map((l) => ({ message: l.message, pos: pos.at(l.path, l.key) }));
    problems.sort((a, b) => (a.pos.line ?? 0) - (b.pos.line ?? 0) || (a.pos.column ?? 0) - (b.pos.column ?? 0));
    throw matrixError(problems);
  }
  const m: MatrixInput = parsed.data;
  const problems: { message: string; pos: SourcePos }[] = [];
  const problem = (message: string, p: PathElem[], key?: string) => problems.push({ message, pos: pos.at(p, key) });

  const scenarios: Scenario[] = [];
  m.scenarios.forEach((s, i) => {
    const here: PathElem[] = ["scenarios", i];
    // Relative to the matrix file (as a user writes it beside their domains), confined to its project.
    const domainAbs = path.resolve(base, s.domain);
    const rel = path.relative(root, domainAbs);
    if (path.isAbsolute(s.domain) || rel.startsWith("..") || path.isAbsolute(rel)) {
      problem(`domain file '${s.domain}' must be a path relative to the matrix file, inside its project (${root})`, [...here, "domain"]);
      return;
    }
    if (!existsSync(domainAbs) && !isLink(domainAbs)) {
      problem(`domain file '${s.domain}' does not exist (relative to the matrix file, in ${base})`, [...here, "domain"]);
      return;
    }
    // Confined after resolving links (a link inside the project pointing out of it is refused), and a
    // regular file (a directory or a FIFO is refused before anything is read: no hang).
    let xml: string;
    try {
      confine(root, domainAbs, "domain file");
      xml = readTextFile(domainAbs, "domain file", s.domain);
    } catch (e) {
      if (!(e instanceof HarnessError)) throw e;
      problem(`domain file '${s.domain}': ${e.message.replace(/^domain file \S+: |^cannot read domain file: /, "")}`, [...here, "domain"]);
      return;
    }
    const facts = domainFacts(xml);
    if (typeof facts === "string") {
      problem(`domain file '${s.domain}': ${facts}`, [...here, "domain"]);
      return;
    }
    if (!facts.name) problem(`domain file '${s.domain}' has no <name>`, [...here, "domain"]);
    const steps = s.steps.map(toStep);
    // Step order: define first; start needs a defined, stopped domain; guest steps need it running.
    let defined = false;
    let running = false;
    steps.forEach((st, j) => {
      const at = [...here, "steps", j];
      switch (st.kind) {
        case "define":
          if (defined) problem("the domain is already defined", at);
          if (j !== 0) problem("'define' must be the first step", at);
          defined = true;
          break;
        case "start":
          if (!defined) problem("'start' needs a 'define' before it", at);
          else if (running) problem("'start' while the domain runs (add guest-poweroff first)", at);
          running = true;
          break;
        case "guest-set-rtc":
        case "guest-poweroff":
          if (!running) problem(`'${st.kind}' needs a running domain (add 'start' before it)`, at);
          if (st.kind === "guest-poweroff") running = false;
          break;
        case "read":
          if (!defined) problem("'read' needs a 'define' before it", at);
          break;
      }
    });
    if (steps[0]?.kind !== "define") problem("the first step must be 'define'", [...here, "steps", 0]);
    const checks = [...new Set(s.checks)] as Check[];
    const hasRead = steps.some((st) => st.kind === "read");
    const hasStart = steps.some((st) => st.kind === "start");
    checks.forEach((c, j) => {
      const at = [...here, "checks", j];
      if ((c === "clock" || c === "cmdline") && !hasRead) problem(`check '${c}' needs a 'read' step`, at);
      if (c === "effective-clock" && !hasStart) problem("check 'effective-clock' needs a 'start' step", at);
      if (c === "cmdline" && facts.cmdline === null) problem("check 'cmdline' needs a domain with <os><cmdline>", at);
    });
    const intentAttrs = s.intent ? clockAttrs(s.intent) : facts.clock;
    const intent = clockMeaning(intentAttrs);
    // Without an explicit intent, the guest's own RTC changes are meant to stick (as on hardware).
    const deltas = steps.reduce((n, st) => n + (st.kind === "guest-set-rtc" ? st.delta : 0), 0);
    if (!s.intent && deltas !== 0) {
      intent.adjustment += deltas;
      intent.reset = false;
    }
    if (Number.isNaN(intent.adjustment)) problem("the domain's <clock> adjustment is not a number", [...here, s.intent ? "intent" : "domain"]);
    scenarios.push({
      id: s.id,
      description: s.description,
      domainFile: rel.split(path.sep).join("/"),
      xml,
      guest: facts.guest,
      cmdline: facts.cmdline,
      steps,
      intent,
      intentText: s.intent
        ? `<clock${Object.entries(intentAttrs).map(([k, v]) => ` ${k}='${v}'`).join("")}/>`
        : `the domain's clock${deltas ? ` with the guest's ${deltas > 0 ? "+" : ""}${deltas}s` : ""}`,
      checks,
      pos: pos.at(here),
    });
  });

  // Globs: bad syntax or matching no cell of the full matrix are errors.
  const allIds: string[] = [];
  for (const x of m.xend) for (const l of m.libvirt) for (const s of m.scenarios) allIds.push(`${x}/${l}/${s.id}`);
  const checkGlob = (g: string, at: PathElem[]) => {
    let re: Glob;
    try {
      re = compileGlob(g);
    } catch (e) {
      problem(e instanceof Error ? e.message : String(e), at);
      return;
    }
    if (!g.includes("/") && !g.includes("**")) problem(`glob '${g}' names no cell: cell ids are <xend>/<libvirt>/<scenario> (e.g. '*/0.9.10/hvm-*')`, at);
    else if (!allIds.some((id) => re.test(id))) problem(`glob '${g}' matches no cell of this matrix`, at);
  };
  (m.include ?? []).forEach((g, i) => checkGlob(g, ["include", i]));
  (m.exclude ?? []).forEach((g, i) => checkGlob(g, ["exclude", i]));
  (m.expectations ?? []).forEach((e, i) => checkGlob(e.cells, ["expectations", i, "cells"]));

  if (problems.length) {
    problems.sort((a, b) => (a.pos.line ?? 0) - (b.pos.line ?? 0) || (a.pos.column ?? 0) - (b.pos.column ?? 0));
    throw matrixError(problems);
  }
  return {
    file: opts.file,
    name: m.name,
    description: m.description,
    xend: m.xend,
    libvirt: m.libvirt,
    scenarios,
    include: m.include ?? [],
    exclude: m.exclude ?? [],
    expectations: (m.expectations ?? []).map((e, i) => ({ ...e, pos: pos.at(["expectations", i]) })),
    xendPos: m.xend.map((_, i) => pos.at(["xend", i])),
  };
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The profile id a libvirt version of a matrix resolves to (validated at load). */
export function profileIdOf(libvirt: string): string {
  return resolveProfile(libvirt).id;
}

/** The project a matrix file belongs to: the nearest directory above it with a package.json or an xend-compat config. */
export function matrixProjectRoot(file: string): string {
  const start = path.dirname(path.resolve(file));
  for (let dir = start; ; ) {
    if (["package.json", "xend-compat.config.json", "xend-compat.config.yaml", "xend-compat.config.yml"].some((f) => existsSync(path.join(dir, f)))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return start;
    dir = up;
  }
}
