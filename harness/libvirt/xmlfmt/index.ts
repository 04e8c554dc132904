/** The domain XML of the SXPR → XML direction: libvirt's formatter per release, from the shared definition (../def). */
export { formatDomainXml } from "./format.js";
export type { XmlFlavour } from "./format.js";
export { xmlEscape } from "./escape.js";
