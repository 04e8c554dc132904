/**
 * The profile registry: one model profile per libvirt release (releases.ts), plus patch profiles.
 * A profile is the table of changes (releases.ts) read at one version.
 */
import { HarnessError } from "../errors.js";
import { oneLine } from "../terminal.js";
import { formatDomain, parseDomain } from "./convert.js";
import { CHANGES, RELEASES, UNCHECKED_RELEASES, compareVersions, gatesAt, isRelease, levelAt, nearestReleases, type Level } from "./releases.js";
import type { Behaviour, ModelProfile, Profile } from "./types.js";
import { resolveSourceProfile } from "./build/index.js";

export { compareVersions } from "./releases.js";

/**
 * The four eras the project started with (the clock rules of facts/libvirt.md §2) and their ids. They
 * name the domains a cell defines on xend (so the shipped recordings stay valid), and they are
 * accepted as aliases of the release whose suite pinned them.
 */
const ERAS: { era: Behaviour; id: string; first: string; last: string; pin: string; summary: string }[] = [
  {
    era: "0.6.2",
    id: "0.6.2-0.9.4",
    first: "0.6.2",
    last: "0.9.4",
    pin: "0.8.7",
    summary: "reads /domain/localtime (HVM also image/hvm); PV image/linux/localtime not read; writes top-level (localtime 1), HVM also in image; define sent unescaped",
  },
  {
    era: "0.9.5",
    id: "0.9.5-0.9.10",
    first: "0.9.5",
    last: "0.9.10",
    pin: "0.9.10",
    summary: "also reads PV image/linux/localtime; utc/localtime only (variable and timezone refused); rtc_timeoffset ignored; requests URI-escaped",
  },
  {
    era: "0.9.11",
    id: "0.9.11-1.3.0",
    first: "0.9.11",
    last: "1.3.0",
    pin: "0.9.11",
    summary: "xend_config_format >= 4: HVM clock is variable + rtc_timeoffset with basis, localtime in image and top level; PV utc/localtime with adjustment='reset'",
  },
  {
    era: "1.3.1",
    id: "1.3.1-5.5.0",
    first: "1.3.1",
    last: "5.5.0",
    pin: "4.5.0",
    summary: "the config-format >= 4 behaviour of 0.9.11 unconditionally (version checks removed)",
  },
];

const RFC = {
  id: "0.8.7+rfc-localtime",
  base: "0.8.7",
  name: "rfc-localtime",
  source: "libvir-list 2012-01-11, Philipp Hahn, \"[BUG, PATCH-RFC] libvirt localtime and rtc_timeoffset handling in xen-sexpr/sxpr/sxp\"",
  summary: "0.8.7 with the 2012 RFC: PV utc/localtime, HVM variable, localtime and rtc_timeoffset always in the image, warning for HVM localtime with rtc_timeoffset != 0",
};

/** The era a release belongs to (releases before 0.6.2 are modelled by the first era). */
function eraOf(level: Level): (typeof ERAS)[number] {
  return ERAS.find((e) => e.era === level.era) ?? ERAS[0];
}

function makeProfile(release: string, patch?: typeof RFC): ModelProfile {
  const level = patch ? levelAt(release, "rfc-2012") : levelAt(release);
  const era = eraOf(level);
  const gates = gatesAt(release);
  const pinGates = gatesAt(era.pin);
  const broken = CHANGES.find((c) => c.side === "transport" && gates.includes(c.gate));
  const id = patch ? patch.id : release;
  const differing = CHANGES.filter((c) => pinGates.includes(c.gate) !== gates.includes(c.gate)).map((c) => `${c.gate} (${c.commit}, ${c.since})`);
  return {
    id,
    release,
    era: patch ? patch.id : era.id,
    first: patch ? release : era.first,
    last: patch ? release : era.last,
    summary: patch ? patch.summary : era.summary + (differing.length ? `; differs from ${era.pin} by: ${differing.join(", ")}` : ""),
    patch: patch ? { base: patch.base, name: patch.name, source: patch.source } : undefined,
    wire: level.has("wire-uri-escape") ? "uri" : "raw",
    gates,
    checked: !UNCHECKED_RELEASES.includes(release),
    unusable: broken ? { reason: broken.what, commit: broken.commit } : undefined,
    format: (xml, opts) => formatDomain(xml, level, opts),
    parse: (sxpr, opts) => parseDomain(sxpr, level, opts),
  };
}

/**
 * Model profiles by id, each made when first asked for: a run asks for a few of the ~160 releases,
 * and making all of them (their gates read from the table) was a twentieth of a cold run.
 */
const BY_ID = new Map<string, ModelProfile>();
const RELEASE_IDS = new Set<string>(RELEASES);
function profileById(id: string): ModelProfile | undefined {
  let p = BY_ID.get(id);
  if (!p) {
    if (id === RFC.id) p = makeProfile(RFC.base, RFC);
    else if (RELEASE_IDS.has(id)) p = makeProfile(id);
    else return undefined;
    BY_ID.set(id, p);
  }
  return p;
}
/** Every model profile: the releases in order, then the patch profile. */
let PROFILES: readonly ModelProfile[] | undefined;

/** The era ids (`0.9.11-1.3.0`, …), accepted as aliases of the release whose suite pinned them. */
const ALIASES = new Map(ERAS.map((e) => [e.id, e.pin]));

export function listProfiles(): readonly ModelProfile[] {
  return (PROFILES ??= [...RELEASES.map((r) => profileById(r)!), profileById(RFC.id)!]);
}

/** The libvirt tag whose own test suite pins a profile's exact text (`v1.1.3`), if it is available. */
export function conformanceTagOf(profileId: string): string | undefined {
  const p = profileById(ALIASES.get(profileId) ?? profileId);
  if (!p || p.patch || !p.checked) return undefined;
  return `v${p.release ?? p.id}`;
}

/** The era behind a profile id. */
export function behaviourOf(profileId: string): Behaviour | undefined {
  if (profileId === RFC.id) return "rfc-2012";
  const r = ALIASES.get(profileId) ?? profileId;
  return isRelease(r) ? levelAt(r).era : undefined;
}

export function knownRangesText(): string {
  return `${RELEASES[0]}–${RELEASES[RELEASES.length - 1]} (every release, maintenance four-part versions included), ${RFC.id}`;
}

/**
 * Resolve a libvirt version (`0.9.10`, `v0.9.10`, `0.9.11.3`, an era alias such as `0.9.11-1.3.0`,
 * or the patch profile `0.8.7+rfc-localtime`) to its profile. Anything else is an input error
 * naming the nearest known releases.
 */
export function resolveProfile(version: string): Profile {
  // `src:DIR`: a built profile of the user's tree (harness/libvirt/build), before any model.
  const built = resolveSourceProfile(version, modelIdOf, { unusableOf });
  if (built) return built;
  // A pure function of the string (every cell of a run resolves its libvirt version): remembered.
  let p = resolved.get(version);
  if (!p) {
    p = resolveUncached(version);
    if (resolved.size >= 256) resolved.clear();
    resolved.set(version, p);
  }
  return p;
}

/** The model profile id of a release (what a built tree of that release replays as), or undefined. */
function modelIdOf(version: string): string | undefined {
  try {
    return resolveProfile(version).id;
  } catch {
    return undefined;
  }
}

/** Why a release cannot talk to xend at all (its model's `unusable`), or undefined. */
function unusableOf(version: string): string | undefined {
  try {
    return resolveProfile(version).unusable?.reason;
  } catch {
    return undefined;
  }
}

/** resolveProfile's successes by version string (unknown versions throw each time). */
const resolved = new Map<string, Profile>();

function resolveUncached(version: string): Profile {
  const v = version.trim().replace(/^v/, "");
  const alias = ALIASES.get(v);
  const direct = profileById(alias ?? v);
  if (direct) return direct;
  if (v.includes("+")) {
    // Exactly one '+' and identifier characters only: the version may become a path segment
    // (goldens), so nothing after a second '+' may be ignored (harness/safepath.ts).
    const parts = v.split("+");
    if (parts.length !== 2 || !/^[A-Za-z0-9._-]+$/.test(parts[0]) || !/^[A-Za-z0-9._-]+$/.test(parts[1]))
      throw new HarnessError("input.version", `'${oneLine(version)}' is not a libvirt version (expected e.g. 0.9.10, or one patch: 0.8.7+rfc-localtime)`);
    const [base] = parts;
    throw new HarnessError(
      "input.version",
      `unknown libvirt patch profile '${oneLine(version)}'; known patch profiles: ${RFC.id}` + (isRelease(base) ? "" : nearText(base)),
    );
  }
  if (!/^\d+\.\d+\.\d+(\.\d+)?$/.test(v)) {
    throw new HarnessError("input.version", `'${oneLine(version)}' is not a libvirt version (expected e.g. 0.9.10 or 0.9.11.3); known: ${knownRangesText()}`);
  }
  const why =
    compareVersions(v, RELEASES[0]) < 0
      ? `older than every modelled release (the first is ${RELEASES[0]})`
      : compareVersions(v, RELEASES[RELEASES.length - 1]) > 0
        ? `libvirt removed its xend SXPR code in 5.6.0; the last modelled release is ${RELEASES[RELEASES.length - 1]}`
        : `not a libvirt release${nearText(v)}`;
  throw new HarnessError("input.version", `no profile covers libvirt ${v}; known ranges: ${knownRangesText()}; ${why}`);
}

function nearText(v: string): string {
  const near = nearestReleases(v);
  return near.length ? `; nearest known releases: ${near.join(", ")}` : "";
}
