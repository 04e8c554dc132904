/**
 * The one domain definition (libvirt's virDomainDef) both directions parse into and format from, its
 * enums at a release, and what libvirt does to a definition between parsing and formatting (post-parse).
 */
export type * from "./domain.js";
export { emptyDomain, emptyClock, formatUuid, hexValue, diskNameToIndex, diskNameToIndexOld } from "./domain.js";
export { domainFeatures, soundModels, chrTypes, inputTypes, netTypes, sortDisksOld, XEN_HVM_FEATURES, LIFECYCLE_ACTIONS, LIFECYCLE_CRASH_ACTIONS, GRAPHICS_TYPES, STORAGE_FORMATS } from "./enums.js";
export { postParse450, postParseXend } from "./post-parse.js";
