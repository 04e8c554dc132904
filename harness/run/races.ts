/**
 * Races of the real xend itself: the one list the golden comparison (golden.ts) and the fresh-recording
 * test (test/recordings-fresh.test.ts) share. A race names the cells it happens in, the SXPR key whose
 * value it decides, the value xend's race may leave instead of the running one, and the running values
 * the shipped recordings hold. Nothing else is ever accepted as a race (fixtures/recordings/README.md,
 * "Volatile fields").
 */

export interface XendRace {
  /** Cell ids the race happens in. */
  cells: RegExp;
  /** The SXPR key of xend's read-back whose value the race decides. */
  key: string;
  /** What xend may store instead of the running value when the race goes the other way. */
  racyValue: string;
  /** The running values (the other outcome) the shipped recordings hold, per profile. */
  runningValues: readonly string[];
  /** Why, with where it is documented. */
  why: string;
}

export const XEND_RACES: readonly XendRace[] = [
  {
    cells: /^3\.2\/[^/]+\/hvm-guest-sets-rtc$/,
    key: "rtc_timeoffset",
    racyValue: "0",
    runningValues: ["10800", "3600"],
    why:
      "xend 3.2.2's watch thread stores the vanished /vm/<uuid>/rtc/timeoffset of a powered-off HVM domain as 0, racing its poweroff handling (docs/clock.md#xend-32-race: Xen 3.2.2 tools/python/xen/xend/XendDomainInfo.py:1055-1056, 1080-1081; fixtures/recordings/README.md, 'Volatile fields')",
  },
  {
    cells: /^3\.3\/[^/]+\/hvm-guest-sets-rtc$/,
    key: "rtc_timeoffset",
    racyValue: "0",
    runningValues: ["10800", "3600"],
    why: "xend 3.3 has 3.2's watch code, the same race (docs/xend-series.md#xend-33; Xen 3.3 tools/python/xen/xend/XendDomainInfo.py:1406-1407 at 3.3.0-branched)",
  },
  {
    cells: /^3\.1\/[^/]+\/hvm-guest-sets-rtc$/,
    key: "rtc_timeoffset",
    racyValue: "0",
    runningValues: ["3600"],
    why: "xend 3.1 stores a vanished /vm/<uuid>/rtc/timeoffset as \"0\" too, the same race (docs/xend-series.md#xend-31; Xen 3.1 tools/python/xen/xend/XendDomainInfo.py:871-872 at 3.1.0-branched)",
  },
];

/** The races of a cell. */
export function racesOf(cellId: string): XendRace[] {
  return XEND_RACES.filter((r) => r.cells.test(cellId));
}

/** Every value a race's key may hold in its cells (either outcome). */
export function raceValues(race: XendRace): string[] {
  return [race.racyValue, ...race.runningValues];
}

/**
 * The read-backs xend could have given a cell instead of `sxpr` had its race gone the other way: each
 * `(key value)` list whose value is one outcome of the race, with the value replaced by the other
 * outcome (a running value by the racy one; the racy one by each running value). Empty when the cell has
 * no race, or its read-back holds the key with no value of the race.
 */
export function raceAlternatives(cellId: string, sxpr: string): { race: XendRace; from: string; to: string; sxpr: string }[] {
  const out: { race: XendRace; from: string; to: string; sxpr: string }[] = [];
  for (const race of racesOf(cellId)) {
    const re = new RegExp(`\\((${race.key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")})(\\s+)([^\\s()]+)\\)`, "g");
    const values = [...sxpr.matchAll(re)].map((m) => m[3]);
    if (!values.length) continue;
    const from = values[0];
    // Every occurrence must hold the same outcome; a mixture is not this race.
    if (values.some((v) => v !== from)) continue;
    const targets = from === race.racyValue ? race.runningValues : race.runningValues.includes(from) ? [race.racyValue] : [];
    for (const to of targets) out.push({ race, from, to, sxpr: sxpr.replace(re, (_m, k: string, sp: string) => `(${k}${sp}${to})`) });
  }
  return out;
}
