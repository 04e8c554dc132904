/** libvirt's own conformance suites (sexpr2xml / xml2sexpr): the shipped store of every release, suite directories, and running one through a profile. */
export { loadSuiteDir, loadShippedSuite, shippedTags, storeDir, parseCasesTsv } from "./suite.js";
export type { Suite, SuiteCase, Direction, CompareMode, LoaderRule } from "./suite.js";
export { runSuite, runShippedSuites, countsOf, suiteRunJson } from "./run.js";
export type { SuiteRun, CaseResult, DirectionCounts, ReleaseRun } from "./run.js";
export { unifiedDiff } from "./diff.js";
