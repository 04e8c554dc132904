/** Running cells: runner, observations, verdicts, outcomes, effective clock, goldens, support answers. */
export { runCells, finishCell } from "./runner.js";
export type { RunOptions } from "./runner.js";
export { runCell, judgeChecks, verdictOfChecks, withReadBack, rewriteIdentity, cmdlineOf, verdictForError, missingCapability } from "./cell.js";
export type { CellRun } from "./cell.js";
export { effectiveOffset, intendedOffset, signed } from "./effective.js";
export { outcomeOf, asExpected } from "./outcome.js";
export { XEND_RACES, racesOf, raceValues, raceAlternatives } from "./races.js";
export type { XendRace } from "./races.js";
export { checkGolden, renderGolden, lineDiff, obsoleteGoldens, goldenPath, isCI } from "./golden.js";
export type { GoldenOptions, RaceOutcome } from "./golden.js";
export { supportAnswers, supportStatus } from "./support.js";
export type { SupportAnswer, SupportStatus } from "./support.js";
export type * from "./types.js";
export { OUTCOMES } from "./types.js";
export { execute, backendFactory, parseBackendKind, loadMatrixFor, BACKEND_KINDS, wholeNumber } from "./execute.js";
export type { ExecuteOptions, Execution, BackendSettings } from "./execute.js";
export { progressReporter } from "./progress.js";
