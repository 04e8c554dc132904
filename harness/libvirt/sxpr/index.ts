/**
 * xend's domain SXPR, both ways, per release: libvirt's xenParseSxpr into the definition (../def) for
 * SXPR → XML, and xenFormatSxpr from it for XML → SXPR.
 */
export { xenParseSxpr, parseVifRate, parseIpAddress, parseUuid, parseMac } from "./parse.js";
export type { ParseContext } from "./parse.js";
export { parseClock } from "./parse-clock.js";
export type { ClockRule } from "./parse-clock.js";
export { parseChr } from "./parse-chr.js";
export type { ChrRules } from "./parse-chr.js";
export { formatSxpr } from "./format.js";
export type { Formatter } from "./format.js";
