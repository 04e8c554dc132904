/**
 * Expanding a matrix into cells: xend × libvirt × scenario, filtered by include/exclude and the
 * command line's --xend/--libvirt/--scenario, each with its expectation and the deterministic domain
 * name and uuid it runs under (see DECISIONS.md: "Instance names").
 */
import { createHash } from "node:crypto";
import { HarnessError } from "../errors.js";
import { checkId, isId } from "../safepath.js";
import { oneLine } from "../terminal.js";
import { resolveProfile } from "../libvirt/index.js";
import { compileGlob, globMatch } from "./glob.js";
import type { Expectation, Matrix, Scenario } from "./load.js";

/** One (xend version, libvirt version, scenario), ready to run. */
export interface Cell {
  /** `<xend>/<libvirt>/<scenario>`, e.g. `4.1.2/0.9.11/hvm-utc`. */
  id: string;
  xend: string;
  /** The libvirt version as the matrix or the command line names it. */
  libvirt: string;
  /** The profile it resolves to, e.g. `0.9.11-1.3.0`. */
  profileId: string;
  scenario: Scenario;
  /** The first expectation of the matrix whose glob matches the id. */
  expectation?: Expectation;
  /** The domain name and uuid this cell defines on xend. */
  instance: { name: string; uuid: string };
}

export interface ExpandFilter {
  /** Only these xend versions (any version string; versions outside the matrix are allowed; the recorded backend refuses one without recordings, see harness/run/execute.ts). */
  xend?: string[];
  /** Only these libvirt versions (any version a profile covers). */
  libvirt?: string[];
  /** Only scenarios whose id matches this glob. */
  scenario?: string;
}

export function cellId(xend: string, libvirt: string, scenario: string): string {
  return `${xend}/${libvirt}/${scenario}`;
}

/** Short, stable slug of a profile for domain names: `v0911`, `v087rfc`. */
export function profileSlug(profileId: string): string {
  const p = resolveProfile(profileId);
  return `v${p.first.replace(/\./g, "")}${p.patch ? p.patch.name.split("-")[0] : ""}`;
}

/**
 * The domain a cell runs under. Derived from the scenario and the *profile* (not the version string),
 * so every release of one profile sends byte-identical requests and replays the same recordings, and
 * all cells of one xend version can coexist on one xend.
 */
export function instanceFor(profileId: string, scenarioId: string): { name: string; uuid: string } {
  // Named by the profile's era (e.g. `0.9.11-1.3.0`): every release of an era defines the same
  // domain names, so the recordings made before profiles were per release stay valid.
  const era = resolveProfile(profileId).era ?? profileId;
  const h = createHash("sha256").update(`xend-compat/${era}/${scenarioId}`).digest("hex");
  const u = h.slice(0, 12) + "5" + h.slice(13, 16) + "8" + h.slice(17, 32);
  const uuid = `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20, 32)}`;
  return { name: `xc-${scenarioId}-${profileSlug(profileId)}`, uuid };
}

function usage(msg: string): HarnessError {
  return new HarnessError("input.usage", msg);
}

export function expandCells(matrix: Matrix, filter: ExpandFilter = {}): Cell[] {
  const xends = filter.xend?.length ? filter.xend : matrix.xend;
  // Versions become parts of cell ids and of paths (goldens, recordings): identifiers only (harness/safepath.ts).
  for (const x of xends) if (!isId("xend version", x)) throw usage(`--xend '${oneLine(x)}' is not a xend version (e.g. 4.1.2)`);
  const libvirts = filter.libvirt?.length ? filter.libvirt : matrix.libvirt;
  const profiles = new Map<string, string>();
  /** The profile whose domain names a version's cells use: a built tree's (src:DIR) is its release's model. */
  const instanceProfiles = new Map<string, string>();
  for (const l of libvirts) {
    try {
      const p = resolveProfile(l);
      profiles.set(l, p.id);
      instanceProfiles.set(l, p.replayAs ?? p.id);
      if (!l.startsWith("src:")) checkId("libvirt version", l);
    } catch (e) {
      throw usage(`--libvirt: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  let scenarios = matrix.scenarios;
  if (filter.scenario) {
    // Commas outside braces separate globs: `hvm-*,pv-utc` selects scenarios matching either.
    const globs = splitTopLevelCommas(filter.scenario);
    for (const g of globs) {
      try {
        compileGlob(g);
      } catch (e) {
        throw usage(`--scenario: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    scenarios = scenarios.filter((s) => globs.some((g) => globMatch(g, s.id)));
    if (!scenarios.length) throw usage(`--scenario '${oneLine(filter.scenario)}' matches no scenario of ${matrix.name} (${matrix.scenarios.map((s) => s.id).join(", ")})`);
  }
  const cells: Cell[] = [];
  for (const x of xends) {
    for (const l of libvirts) {
      for (const s of scenarios) {
        const id = cellId(x, l, s.id);
        if (matrix.include.length && !matrix.include.some((g) => globMatch(g, id))) continue;
        if (matrix.exclude.some((g) => globMatch(g, id))) continue;
        const profileId = profiles.get(l)!;
        cells.push({
          id,
          xend: x,
          libvirt: l,
          profileId,
          scenario: s,
          expectation: expectationFor(matrix, id, x, l, s.id, instanceProfiles.get(l)!),
          instance: instanceFor(instanceProfiles.get(l)!, s.id),
        });
      }
    }
  }
  return cells;
}

/**
 * The first expectation whose glob matches the cell id. A libvirt version given on the command line that
 * the matrix does not list (e.g. 0.9.12) inherits the expectations of the matrix's versions of the same
 * era (0.9.11): the clock rules behind the matrix's expectations are those of the era (a release that
 * cannot talk to xend at all, e.g. 1.2.1, inherits nothing).
 */
function expectationFor(matrix: Matrix, id: string, xend: string, libvirt: string, scenario: string, profileId: string): Expectation | undefined {
  const own = matrix.expectations.find((e) => globMatch(e.cells, id));
  if (own || matrix.libvirt.includes(libvirt)) return own;
  const self = resolveProfile(profileId);
  if (self.unusable) return undefined;
  for (const sibling of matrix.libvirt) {
    let same = false;
    try {
      const other = resolveProfile(sibling);
      same = other.id === self.id || (other.era !== undefined && other.era === self.era && !other.unusable);
    } catch {
      same = false;
    }
    if (!same) continue;
    const alias = cellId(xend, sibling, scenario);
    const e = matrix.expectations.find((x) => globMatch(x.cells, alias));
    if (e) return e;
  }
  return undefined;
}

/** Parse `<xend>/<libvirt>/<scenario>`; the libvirt part may hold `+`. */
export function parseCellId(id: string): { xend: string; libvirt: string; scenario: string } {
  // The libvirt part may itself hold slashes (src:../libvirt): xend is before the first, scenario after the last.
  const a = id.indexOf("/");
  const b = id.lastIndexOf("/");
  const parts = [id.slice(0, a), id.slice(a + 1, b), id.slice(b + 1)];
  if (a < 0 || a === b || parts.some((p) => !p) || (!parts[1].startsWith("src:") && parts[1].includes("/")))
    throw usage(`'${oneLine(id)}' is not a cell id (expected <xend>/<libvirt>/<scenario>, e.g. 4.1.2/0.9.11/hvm-utc)`);
  checkId("xend version", parts[0]);
  if (!parts[1].startsWith("src:")) checkId("libvirt version", parts[1]);
  checkId("scenario id", parts[2]);
  return { xend: parts[0], libvirt: parts[1], scenario: parts[2] };
}

/** `a,{b,c},d` → [`a`, `{b,c}`, `d`]: the commas inside braces belong to the glob's alternatives. */
export function splitTopLevelCommas(pattern: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "{") depth++;
    else if (c === "}" && depth > 0) depth--;
    else if (c === "," && depth === 0) {
      out.push(pattern.slice(start, i));
      start = i + 1;
    }
  }
  out.push(pattern.slice(start));
  return out.map((g) => g.trim()).filter(Boolean);
}
