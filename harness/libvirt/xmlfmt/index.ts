/** The domain XML of the SXPR → XML direction: model and libvirt's formatter per release. */
export type * from "./model.js";
export { emptyDomain } from "./model.js";
export { formatDomainXml, formatUuid } from "./format.js";
export type { XmlFlavour } from "./format.js";
export { xmlEscape } from "./escape.js";
