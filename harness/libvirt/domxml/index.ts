/**
 * Domain XML, both ways, per release: libvirt's parser into the definition (../def) for XML → SXPR,
 * and libvirt's formatter (virDomainDefFormat) from it for SXPR → XML.
 */
export { parseDomainXml } from "./parse.js";
export type { ParseOptions } from "./parse.js";
export { formatDomainXml } from "./format.js";
export type { XmlFlavour } from "./format.js";
export { xmlEscape } from "./escape.js";
