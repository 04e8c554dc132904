/**
 * What libvirt 4.5.0 adds after xenParseSxpr before formatting (the generic and libxl post-parse
 * steps of the test driver's XML options). Filled in below.
 */
import type { DomainDef } from "../xmlfmt/index.js";

export function postParse450(def: DomainDef): void {
  void def;
}
