/**
 * What a request to a live xend would do, decided before it touches the wire. The live backend sends
 * reads (GET) freely; everything else must be one of the domain requests the harness makes (define a
 * new domain, or an op on a domain by name), and the backend checks the name against what it created.
 */
import { HarnessError } from "../errors.js";
import { parseForm } from "../xend/index.js";
import type { HttpRequest } from "../xend/types.js";
import { readSxprAll, valueAt, type Sx } from "../sxp/index.js";

export type RequestIntent =
  /** A GET: reads only. */
  | { kind: "read"; path: string }
  /** POST /xend/domain/ op=new|create: defines (or creates) the domain named in the config. */
  | { kind: "define"; op: "new" | "create"; name: string; uuid: string | undefined }
  /** POST /xend/domain/<name> op=<op> (start, destroy, delete, shutdown, ...). */
  | { kind: "op"; name: string; op: string }
  /** Anything else that is not a read (refused). */
  | { kind: "other"; why: string };

/** The domain name of a `/xend/domain/<name>[?...]` path, or undefined for the collection. */
export function domainOfPath(p: string): string | undefined {
  const m = /^\/xend\/domain\/([^/?#]+)\/?(?:[?#].*)?$/.exec(p);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

function first(form: Map<string, string[]>, key: string): string | undefined {
  return form.get(key)?.[0];
}

function readTrees(v: string): Sx[] | undefined {
  try {
    return readSxprAll(v);
  } catch {
    return undefined;
  }
}

/** Classify a request as xend would understand it (form fields decoded as xend decodes them). */
export function classify(req: HttpRequest): RequestIntent {
  if (req.method === "GET") return { kind: "read", path: req.path };
  const pathOnly = req.path.split("?")[0];
  if (req.method !== "POST") return { kind: "other", why: `${req.method} ${pathOnly}` };
  const form = parseForm(req.body ?? "");
  const op = first(form, "op");
  if (pathOnly === "/xend/domain/" || pathOnly === "/xend/domain") {
    if (op !== "new" && op !== "create") return { kind: "other", why: `POST ${pathOnly} op=${op ?? "(none)"}` };
    const config = first(form, "config");
    const trees = config === undefined ? undefined : readTrees(config);
    const tree: Sx | undefined = trees?.[0];
    const name = tree === undefined ? undefined : valueAt(tree, "/domain/name") ?? valueAt(tree, "/vm/name");
    if (!name) return { kind: "other", why: `POST ${pathOnly} op=${op} without a readable domain name in its config` };
    const uuid = tree === undefined ? undefined : valueAt(tree, "/domain/uuid") ?? valueAt(tree, "/vm/uuid");
    return { kind: "define", op, name, uuid };
  }
  const name = domainOfPath(pathOnly);
  if (name !== undefined && op) return { kind: "op", name, op };
  return { kind: "other", why: `POST ${pathOnly}${op ? ` op=${op}` : ""}` };
}

/** Replace the config's uuid in a raw form body, keeping every other byte (dashes keep their encoding). */
export function replaceUuid(body: string, oldUuid: string, newUuid: string): string {
  const parts = oldUuid.split("-");
  if (parts.some((p) => !/^[0-9a-fA-F]+$/.test(p))) return body;
  const re = new RegExp(parts.map((p) => p).join("(-|%2[dD])"));
  const m = re.exec(body);
  if (!m) return body;
  const seps = m.slice(1);
  const newParts = newUuid.split("-");
  if (newParts.length !== parts.length) return body;
  let repl = "";
  newParts.forEach((p, i) => (repl += p + (i < seps.length ? seps[i] : "")));
  return body.slice(0, m.index) + repl + body.slice(m.index + m[0].length);
}

export function refused(message: string): HarnessError {
  return new HarnessError("backend.refused", message);
}

/** One character of a form body as it may appear: itself, or `%xx` in either case of hex (a space also as `+`). */
function charPattern(ch: string): string {
  const code = ch.charCodeAt(0);
  const hex = code.toString(16).padStart(2, "0");
  const pct = `%[${hex[0].toLowerCase()}${hex[0].toUpperCase()}][${hex[1].toLowerCase()}${hex[1].toUpperCase()}]`;
  const self = ch.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
  return ch === " " ? `(?: |\\+|${pct})` : `(?:${self}|${pct})`;
}

function textPattern(s: string): string {
  return [...s].map(charPattern).join("");
}

/** virBufferURIEncodeString's form of an ASCII name: letters and digits as themselves, the rest `%xx`. */
function uriEncodeName(s: string): string {
  return [...s].map((c) => (/[A-Za-z0-9]/.test(c) ? c : "%" + c.charCodeAt(0).toString(16).padStart(2, "0"))).join("");
}

/**
 * Replace the config's `(name OLD)` (or `(name 'OLD')`) in a raw form body by the new name, keeping every other byte. The
 * new name is written the way the old one was (escaped as `%xx` when the old one was, else raw).
 * Returns the body unchanged unless there is exactly one such name.
 */
export function replaceName(body: string, oldName: string, newName: string): string {
  const space = charPattern(" ");
  // libvirt writes `(name 'x')`; xend also takes `(name x)`.
  const quote = charPattern("'");
  const re = new RegExp(`${textPattern("(name")}(?:${space})+(?:${quote})?(${textPattern(oldName)})(?=${quote}|${textPattern(")")}|${space})`, "g");
  const found = [...body.matchAll(re)];
  if (found.length !== 1) return body;
  const m = found[0];
  const old = m[1];
  const start = m.index! + m[0].length - old.length;
  const repl = old.includes("%") ? uriEncodeName(newName) : newName;
  return body.slice(0, start) + repl + body.slice(start + old.length);
}
