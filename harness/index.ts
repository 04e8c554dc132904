/**
 * xend-compat's one curated entry point (`import { ... } from "xend-compat"`). Each concern's own
 * folder keeps its full API behind its index.ts; this file names what a program driving the harness
 * needs: matrices and cells, profiles, backends, the runner, reports, and the CLI.
 */
export { HarnessError, isHarnessError, formatWithPos } from "./errors.js";
export type { ErrorCode, SourcePos } from "./errors.js";

// SXPR as xend and libvirt read and write it.
export { readSxpr, readSxprAll, printSxpr, findPath, findKey, valueAt, sxEqual, canonical } from "./sxp/index.js";
export type { Sx, SxList, PathMatch } from "./sxp/index.js";

// libvirt releases: profiles, wire encoding, clock meaning.
export { resolveProfile, listProfiles, encodeForm, readClock, clockMeaning, sameClock, describeClock } from "./libvirt/index.js";
export type { Profile, ConvertOptions, FormatOutcome, ParseOutcome, ClockMeaning } from "./libvirt/index.js";

// What plays xend.
export { createBackend, RecordedBackend, RecordingBackend, XendClient, exchange, parseTarget, loadRecording } from "./xend/index.js";
export type { Backend, BackendSession, BackendKind, BackendSpec, HttpRequest, HttpResponse, ControlStep, EffectiveClock, Provenance, Recording } from "./xend/index.js";
export { startSandbox } from "./sandbox/index.js";
export { startContainerBackend } from "./container/index.js";
export { startLiveBackend } from "./live/index.js";

// Matrices, the runner and its answers.
export { loadMatrix, expandCells } from "./matrix/index.js";
export type { Matrix, Scenario, Cell } from "./matrix/index.js";
export { runCells, execute, supportAnswers, groupSupport, effectiveOffset } from "./run/index.js";
export type { SupportAnswer, SupportStatus } from "./run/index.js";
export { render, makeReport, REPORTER_NAMES } from "./report/index.js";
export type { RunReport, ReporterName } from "./report/index.js";

// libvirt's own conformance suites (every release's, shipped) run through a profile.
export { runSuite, loadSuiteDir, loadShippedSuite, shippedTags } from "./conformance/index.js";
export type { Suite, SuiteRun, CaseResult } from "./conformance/index.js";

// The command line.
export { main, VERSION } from "./cli.js";
export type { Command, CliIO } from "./cli.js";
