/** S-expressions as xend and libvirt read and write them: reading, printing, paths, comparison. */
export type { Sx, SxList } from "./types.js";
export { isList, isAtom, headOf } from "./types.js";
export { readSxpr, readSxprAll, readSxprPrefix, stripContinuations, lineCol } from "./read.js";
export type { Dialect, ReadOptions } from "./read.js";
export { printSxpr, pyRepr, xendAtomp } from "./print.js";
export type { PrintStyle, PrintOptions } from "./print.js";
export { findPath, findKey, valueAt } from "./path.js";
export type { PathMatch } from "./path.js";
export { sxEqual, canonical, firstDifference } from "./compare.js";
