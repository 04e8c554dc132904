/**
 * The xend of every Xen series that shipped one (3.0 to 4.4; xend was removed in 4.5), and the one
 * public tree that plays each here: its version label (what matrices, recordings and reports call
 * it), where the tree comes from, and an honest description of what that tree is (a release tag, a
 * branch point, or a third-party release import). The shipped recordings name the same tree and
 * commit in their provenance; test/xend-series.test.ts checks that they agree.
 */

export type TreeKind = "release tag" | "branch point" | "release import";

export interface XendSeries {
  /** The Xen series, `M.m`. */
  readonly series: string;
  /** The version label used everywhere (matrix `xend:` lists, cell ids, recordings/<label>/). */
  readonly version: string;
  /** Repository the tree comes from. */
  readonly repo: string;
  /** Tag or branch point in that repository, when there is one. */
  readonly ref?: string;
  readonly commit: string;
  readonly kind: TreeKind;
  /** One honest line, e.g. `3.1 (tree at 3.1.0-branched, commit 15f6eaad)`. */
  readonly label: string;
  /** Why this tree, where it is not simply the series' last release tag. */
  readonly note?: string;
  /**
   * The `xend_config_format` its `GET /xend/node/` reports, or null when it reports none (libvirt then
   * assumes 1): fixtures/recordings/TRUTH.tsv's column, which test/xend-truth.test.ts checks against this
   * and against the recordings (file:line per series in docs/xend-series.md).
   */
  readonly configFormat: number | null;
}

const short = (c: string) => c.slice(0, 8);

function entry(e: Omit<XendSeries, "label"> & { label?: string }): XendSeries {
  const at = e.kind === "release tag" ? `${e.ref}` : e.kind === "branch point" ? `tree at ${e.ref}` : `${e.repo.replace(/^github:/, "")} release import`;
  return { ...e, label: e.label ?? `${e.series} (${at}, commit ${short(e.commit)})` };
}

/** One tree per series, oldest first. */
export const XEND_SERIES: readonly XendSeries[] = [
  entry({
    series: "3.0",
    version: "3.0.0",
    repo: "github:xen-project/xen",
    ref: "RELEASE-3.0.0",
    commit: "4f1fd0003ea937f0cc608022bc01976cd34c2115",
    configFormat: null,
    kind: "release tag",
    note: "the only 3.0 release tag in the public tree (3.0.2-3.0.4 exist only as branch points); xend 3.0.0 reports no xend_config_format and has no managed domains (no op=new)",
  }),
  entry({
    series: "3.1",
    version: "3.1",
    repo: "github:xen-project/xen",
    ref: "3.1.0-branched",
    commit: "15f6eaada976ef05ea329db34f599619907ecedc",
    configFormat: 4,
    kind: "branch point",
    note: "no public 3.1.x release tag: the mainline commit where 3.1.0 was branched (2007-05-08)",
  }),
  entry({
    series: "3.2",
    version: "3.2",
    repo: "github:mikesun/xen-cow-checkpointing",
    commit: "49bc7a02f5858650abe459e1f0e13268ae115790",
    configFormat: 4,
    kind: "release import",
    label: "3.2 (3.2.2 release import, mikesun/xen-cow-checkpointing commit 49bc7a02)",
    note: "no public 3.2.x release tag: a third-party import of the 3.2.2 release (first commit \"Original Xen 3.2.2 release.\")",
  }),
  entry({
    series: "3.3",
    version: "3.3",
    repo: "github:xen-project/xen",
    ref: "3.3.0-branched",
    commit: "b9c620d078f2cc0503c59aafb0e42865aee977ff",
    configFormat: 4,
    kind: "branch point",
    note: "no public 3.3.x release tag: the mainline commit where 3.3.0 was branched (2008-08-21, after 3.3.0-rc7)",
  }),
  entry({
    series: "3.4",
    version: "3.4.3",
    repo: "github:huddy1985/xen-3.4.4",
    commit: "6bb45191e72a1e4ebce3d71400a4a2baa2e2df52",
    configFormat: 4,
    kind: "release import",
    label: "3.4 (labelled 3.4.3: a 3.4.4 release import, huddy1985/xen-3.4.4 commit 6bb45191)",
    note: "no public 3.4.x release tag or 3.4.3 tree: a third-party 3.4.4 import whose xend equals 3.4.0-rc3's in every clock-related file (facts/xend.md)",
  }),
  entry({
    series: "4.0",
    version: "4.0.4",
    repo: "github:xen-project/xen",
    ref: "RELEASE-4.0.4",
    commit: "7be795d77cfa4dcc1ae85d1a27dbd6b2241109eb",
    configFormat: 4,
    kind: "release tag",
  }),
  entry({
    series: "4.1",
    version: "4.1.2",
    repo: "github:xen-project/xen",
    ref: "RELEASE-4.1.2",
    commit: "eba9045a7dc8c358a15653604d1a7cb2dbc8a239",
    configFormat: 4,
    kind: "release tag",
    note: "the release the 2012 report names (the series' last tag is RELEASE-4.1.6.1)",
  }),
  entry({
    series: "4.2",
    version: "4.2.5",
    repo: "github:xen-project/xen",
    ref: "RELEASE-4.2.5",
    commit: "7bcdeb9c2dc9902f08f8455288151153a411802a",
    configFormat: 4,
    kind: "release tag",
  }),
  entry({
    series: "4.3",
    version: "4.3.4",
    repo: "github:xen-project/xen",
    ref: "RELEASE-4.3.4",
    commit: "c58b16ef1572176cf2f6a424b527b5ed4bb73f17",
    configFormat: 4,
    kind: "release tag",
  }),
  entry({
    series: "4.4",
    version: "4.4.4",
    repo: "github:xen-project/xen",
    ref: "RELEASE-4.4.4",
    commit: "a611ed5d040a764e01edcc8b6d99342c393589d9",
    configFormat: 4,
    kind: "release tag",
    note: "the last series with xend (removed in Xen 4.5)",
  }),
];

/** The environment variable naming the Xen tree of a xend version label (`4.1.2` → XEND_COMPAT_XEN_SRC_4_1_2). */
export function xenSrcEnvName(version: string): string {
  return `XEND_COMPAT_XEN_SRC_${version.replace(/\./g, "_")}`;
}

/** The series entry of a version label, if it is one of the ten. */
export function seriesOf(version: string): XendSeries | undefined {
  return XEND_SERIES.find((s) => s.version === version);
}

/** The honest label of a version (the series entry's), or the version itself. */
export function seriesLabel(version: string): string {
  return seriesOf(version)?.label ?? version;
}
