/** The one domain definition (libvirt's virDomainDef) both directions parse into and format from. */
export type * from "./domain.js";
export { emptyDomain, emptyClock, formatUuid, diskNameToIndex } from "./domain.js";
