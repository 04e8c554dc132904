/**
 * The one domain definition (libvirt's virDomainDef) both directions parse into and format from, and
 * what libvirt does to a definition between parsing and formatting (post-parse).
 */
export type * from "./domain.js";
export { emptyDomain, emptyClock, formatUuid, diskNameToIndex } from "./domain.js";
export { postParse450, postParseXend } from "./post-parse.js";
