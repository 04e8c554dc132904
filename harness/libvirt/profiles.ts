/**
 * The profile registry: which behaviour a libvirt version string resolves to.
 */
import { HarnessError } from "../errors.js";
import { oneLine } from "../terminal.js";
import { formatDomain } from "./format/index.js";
import { parseDomain } from "./parse/index.js";
import type { Behaviour, Profile } from "./types.js";
import type { WireEncoding } from "./wire.js";

interface ProfileSpec {
  id: string;
  behaviour: Behaviour;
  first: string;
  last: string;
  wire: WireEncoding;
  summary: string;
  conformanceTag?: string;
  patch?: { base: string; name: string; source: string };
}

const SPECS: ProfileSpec[] = [
  {
    id: "0.6.2-0.9.4",
    behaviour: "0.6.2",
    first: "0.6.2",
    last: "0.9.4",
    wire: "raw",
    conformanceTag: "v0.8.7",
    summary: "reads /domain/localtime (HVM also image/hvm); PV image/linux/localtime not read; writes top-level (localtime 1), HVM also in image; define sent unescaped",
  },
  {
    id: "0.9.5-0.9.10",
    behaviour: "0.9.5",
    first: "0.9.5",
    last: "0.9.10",
    wire: "uri",
    conformanceTag: "v0.9.10",
    summary: "also reads PV image/linux/localtime; utc/localtime only (variable and timezone refused); rtc_timeoffset ignored; requests URI-escaped",
  },
  {
    id: "0.9.11-1.3.0",
    behaviour: "0.9.11",
    first: "0.9.11",
    last: "1.3.0",
    wire: "uri",
    conformanceTag: "v0.9.11",
    summary: "xend_config_format >= 4: HVM clock is variable + rtc_timeoffset with basis, localtime in image and top level; PV utc/localtime with adjustment='reset'",
  },
  {
    id: "1.3.1-5.5.0",
    behaviour: "1.3.1",
    first: "1.3.1",
    last: "5.5.0",
    wire: "uri",
    conformanceTag: "v4.5.0",
    summary: "the config-format >= 4 behaviour of 0.9.11 unconditionally (version checks removed)",
  },
  {
    id: "0.8.7+rfc-localtime",
    behaviour: "rfc-2012",
    first: "0.8.7",
    last: "0.8.7",
    wire: "raw",
    summary: "0.8.7 with the 2012 RFC: PV utc/localtime, HVM variable, localtime and rtc_timeoffset always in the image, warning for HVM localtime with rtc_timeoffset != 0",
    patch: {
      base: "0.8.7",
      name: "rfc-localtime",
      source: "libvir-list 2012-01-11, Philipp Hahn, \"[BUG, PATCH-RFC] libvirt localtime and rtc_timeoffset handling in xen-sexpr/sxpr/sxp\"",
    },
  },
];

function makeProfile(spec: ProfileSpec): Profile {
  return {
    id: spec.id,
    first: spec.first,
    last: spec.last,
    summary: spec.summary,
    patch: spec.patch,
    wire: spec.wire,
    format: (xml, opts) => formatDomain(xml, spec.behaviour, opts),
    parse: (sxpr, opts) => parseDomain(sxpr, spec.behaviour, opts),
  };
}

const PROFILES: Profile[] = SPECS.map(makeProfile);

/** Compare dotted release numbers. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

export function listProfiles(): readonly Profile[] {
  return PROFILES;
}

/** The libvirt tag whose own test suite pins a profile's exact text, if any. */
export function conformanceTagOf(profileId: string): string | undefined {
  return SPECS.find((s) => s.id === profileId)?.conformanceTag;
}

/** The behaviour behind a profile id. */
export function behaviourOf(profileId: string): Behaviour | undefined {
  return SPECS.find((s) => s.id === profileId)?.behaviour;
}

export function knownRangesText(): string {
  return PROFILES.map((p) => (p.patch ? p.id : `${p.first}–${p.last}`)).join(", ");
}

/**
 * Resolve a libvirt version (`0.9.10`, `v0.9.10`, a profile id, or `0.8.7+rfc-localtime`) to its profile.
 * Unknown versions are an input error listing the known ranges.
 */
export function resolveProfile(version: string): Profile {
  // A pure function of the string (every cell of a run resolves its libvirt version): remembered.
  let p = resolved.get(version);
  if (!p) {
    p = resolveUncached(version);
    if (resolved.size >= 256) resolved.clear();
    resolved.set(version, p);
  }
  return p;
}

/** resolveProfile's successes by version string (unknown versions throw each time). */
const resolved = new Map<string, Profile>();

function resolveUncached(version: string): Profile {
  const v = version.trim().replace(/^v/, "");
  const byId = PROFILES.find((p) => p.id === v);
  if (byId) return byId;
  if (v.includes("+")) {
    // Exactly one '+' and identifier characters only: the version may become a path segment
    // (goldens), so nothing after a second '+' may be ignored (harness/safepath.ts).
    const parts = v.split("+");
    if (parts.length !== 2 || !/^[A-Za-z0-9._-]+$/.test(parts[0]) || !/^[A-Za-z0-9._-]+$/.test(parts[1]))
      throw new HarnessError("input.version", `'${oneLine(version)}' is not a libvirt version (expected e.g. 0.9.10, or one patch: 0.8.7+rfc-localtime)`);
    const [base, patch] = parts;
    const p = PROFILES.find((q) => q.patch && q.patch.base === base && q.patch.name === patch);
    if (p) return p;
    throw new HarnessError(
      "input.version",
      `unknown libvirt patch profile '${oneLine(version)}'; known: ${PROFILES.filter((q) => q.patch).map((q) => q.id).join(", ")}`,
    );
  }
  if (!/^\d+\.\d+\.\d+$/.test(v)) {
    throw new HarnessError("input.version", `'${oneLine(version)}' is not a libvirt version (expected e.g. 0.9.10); known ranges: ${knownRangesText()}`);
  }
  const p = PROFILES.find((q) => !q.patch && compareVersions(v, q.first) >= 0 && compareVersions(v, q.last) <= 0);
  if (!p) throw new HarnessError("input.version", `no profile covers libvirt ${v}; known ranges: ${knownRangesText()}`);
  return p;
}
