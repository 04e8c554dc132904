import type { Profile } from "../types.js";

/**
 * Build every built profile among `profiles` (once each) before any cell runs, so that a tree that
 * does not build or fails its own tests is one clear error (exit 2) and not a column of error cells.
 * Each is announced with its label (the tree's version, commit and uncommitted changes).
 */
export async function prepareProfiles(profiles: Iterable<Profile>, log: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<void> {
  const seen = new Set<Profile>();
  for (const p of profiles) {
    if (seen.has(p) || !p.prepare) continue;
    seen.add(p);
    await p.prepare(log);
    if (p.label) log(`xend-compat: ${p.id} is ${p.label}`);
    const failing = (p as { built?: { build?: { ownTestsFailing?: string | null } } | null }).built?.build?.ownTestsFailing;
    if (failing) log(`xend-compat: ${p.id}: its own SXPR tests fail at this build (${failing})`);
  }
}
