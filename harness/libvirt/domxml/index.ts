/** The domain XML reader of the XML → SXPR direction: libvirt's parser per release, and its model. */
export { parseDomainXml, diskNameToIndex } from "./parse.js";
export type { ParseOptions } from "./parse.js";
export type * from "./model.js";
