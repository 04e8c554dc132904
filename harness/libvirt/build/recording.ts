/**
 * What ci/record-libvirt-build.ts writes for a real build (fixtures/libvirt-builds/<release>.json) and
 * test/libvirt-builds.test.ts reads: one type for both, so the writer and the check cannot drift.
 */

/** One conversion answered by a build's driver. */
export interface RecordedConversion {
  op: "to-sxpr" | "to-xml";
  version: number;
  /** A shipped suite file (path from the project root, loader rule applied) or the text itself. */
  input: { file: string; sha256: string } | { text: string };
  result: { kind: "ok" | "err"; text: string };
  /** Where the conversion was needed: "suite v0.9.11", "matrix". */
  for: string[];
  /** to-sxpr of the matrix: the define request's body as the release's own xend client encodes it. */
  wire?: string;
}

/** Where a recording came from: the tree, its commit and changes, and how it was built. */
export interface BuildProvenance {
  source: string;
  commit: string | null;
  uncommittedChanges: string | null;
  gnulibCommit: string | null;
  configure: string;
  cppflags: string;
  /** `gcc --version`'s first line, where the build ran (the host or the build image). */
  compiler: string;
  os: string;
  /** Where the build ran: "on this host" or "in a container of <image>" (absent in older recordings). */
  builtIn?: string;
  ownTests: string[];
  driver: string;
  defines: Record<string, string>;
  recordedBy: string;
  recordedAt: string;
  matrixCells: Record<string, number>;
}

/** fixtures/libvirt-builds/<release>.json */
export interface BuildRecording {
  format: 1;
  /** The release (or the patch profile, e.g. 0.8.7+rfc-localtime) the build stands for. */
  release: string;
  provenance: BuildProvenance;
  conversions: RecordedConversion[];
}
