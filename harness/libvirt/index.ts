/** libvirt's side: domain XML, per-release profiles (format, parse, wire), clock semantics. */
export type { Profile, ModelProfile, ConvertOptions, FormatOutcome, ParseOutcome, Behaviour } from "./types.js";
export { resolveProfile, listProfiles, conformanceTagOf, behaviourOf, compareVersions, knownRangesText } from "./profiles.js";
export { CHANGES, RELEASES, UNCHECKED_RELEASES, has, gatesAt, changesBetween, levelAt } from "./releases.js";
export type { Change, Gate, Level } from "./releases.js";
export { encodeForm, uriEncodeLibvirt, urlencodeOld, libvirtRequests, libvirtRequestBytes, LIBVIRT_REQUEST_HEADERS } from "./wire.js";
export { forgetFormatted } from "./convert.js";
export { xmFileClockRefusal, clockOffsetOf, definesThroughXmFiles } from "./xm.js";
export type { WireEncoding, WireOp, WireRequest } from "./wire.js";
export { readClock, readClockOf, parseLenient, clockMeaning, sameClock, describeClock, DEFAULT_CLOCK } from "./clock.js";
export type { ClockMeaning, ClockReading, ClockBase } from "./clock.js";
