/** Matrices: YAML loading with line/column errors, the schema, expansion into cells, expectations. */
export { loadMatrix, parseMatrix, matrixProblems, profileIdOf } from "./load.js";
export type { Matrix, Scenario, Step, Expectation, GuestType, LoadOptions } from "./load.js";
export { expandCells, cellId, parseCellId, instanceFor, profileSlug } from "./expand.js";
export type { Cell, ExpandFilter } from "./expand.js";
export { globMatch, compileGlob } from "./glob.js";
export type { Glob } from "./glob.js";
export { VERDICTS, CHECKS, matrixSchema } from "./schema.js";
export type { Verdict, Check, MatrixInput } from "./schema.js";
export { projectRoot, fromRoot, DEFAULT_MATRIX, FULL_MATRIX, RECORDINGS_DIR, GOLDEN_DIR } from "./paths.js";
export { loadResolvableMatrix } from "./resolvable.js";
export type { Unresolved } from "./resolvable.js";
