/**
 * Cells where the tool's model of a libvirt release disagrees with that release's source, so that the
 * shipped matrices (whose expectations follow the source) show them as failures on purpose:
 *
 * - libvirt 0.6.2-0.7.6 take every clock but localtime as utc (v0.6.2 src/domain_conf.c:2118-2120,
 *   v0.7.6 src/conf/domain_conf.c:3466-3468): `hvm-adjust-*` and `hvm-timezone` are `changed`; the
 *   model refuses them as 0.7.7 does (docs/xend-series.md#libvirt-before-077). xend 3.0.0's cells of
 *   those releases are `skipped` (the xm-file driver), so not a gap.
 *
 * The tests that replay the matrices fail when a gap closes (prune this list) or another one opens.
 */
export const PRE_077 = ["0.6.2", "0.6.3", "0.6.4", "0.6.5", "0.7.0", "0.7.1", "0.7.2", "0.7.3", "0.7.4", "0.7.5", "0.7.6"];

/** Is this cell id one of the model's known gaps? */
export function modelGap(id: string): boolean {
  const [x, l, s] = id.split("/");
  return x !== "3.0.0" && PRE_077.includes(l) && (s === "hvm-timezone" || s.startsWith("hvm-adjust-"));
}

/** A gap shows as it should: the model refuses (rejected) what the matrix expects to be changed. */
export function showsAsGap(r: { outcome: string; verdict: string; expectation: { verdict: string } | null }): boolean {
  return r.outcome === "fail" && r.verdict === "rejected" && r.expectation?.verdict === "changed";
}
