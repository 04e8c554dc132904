/**
 * A matrix with the libvirt versions that resolve to no profile left out (and listed), for matrices that
 * name releases ahead of the profiles (matrices/releases.yaml names every release; a release resolves
 * once its profile exists). Everything else is validated as loadMatrix validates it; the versions left
 * out come back with resolveProfile's message, so a caller can say which releases went unanswered.
 */
import * as path from "node:path";
import { isMap, isScalar, isSeq, parseDocument } from "yaml";
import { HarnessError } from "../errors.js";
import { resolveProfile } from "../libvirt/index.js";
import { readTextFile } from "../fsutil.js";
import { parseMatrix, type LoadOptions, type Matrix } from "./load.js";

export interface Unresolved {
  libvirt: string;
  reason: string;
}

export function loadResolvableMatrix(file: string, opts: LoadOptions = {}): { matrix: Matrix; unresolved: Unresolved[] } {
  const abs = path.resolve(file);
  const shown = opts.displayName ?? file;
  let text = readTextFile(abs, "matrix file", shown);
  const unresolved: Unresolved[] = [];
  const doc = parseDocument(text, { logLevel: "error" });
  const list = isMap(doc.contents) ? doc.contents.get("libvirt", true) : undefined;
  if (!doc.errors.length && isSeq(list)) {
    list.items = list.items.filter((item) => {
      if (!isScalar(item) || typeof item.value !== "string") return true;
      try {
        resolveProfile(item.value);
        return true;
      } catch (e) {
        if (!(e instanceof HarnessError) || !e.isInputError) throw e;
        unresolved.push({ libvirt: item.value, reason: e.message });
        return false;
      }
    });
    if (unresolved.length) text = doc.toString();
  }
  // (line numbers of later errors refer to the file only when nothing was left out)
  const matrix = parseMatrix(text, { ...opts, file: abs, displayName: shown });
  return { matrix, unresolved };
}
