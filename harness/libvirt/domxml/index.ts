/** The domain XML reader of the XML → SXPR direction: libvirt's parser per release, into the shared definition (../def). */
export { parseDomainXml, diskNameToIndex } from "./parse.js";
export type { ParseOptions } from "./parse.js";
