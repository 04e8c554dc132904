/**
 * The names a live run gives its domains on xend, and the exact version check.
 *
 * The runner names a cell's domain `xc-<scenario>-<profile slug>` (harness/matrix/expand.ts), the same
 * in every run, so recordings and goldens stay deterministic. On a live host that name would be shared
 * by every run and every xend entry of a run; on the wire the live backend therefore uses
 * `<prefix><run id>-<xend version>-<rest of the runner's name>`, e.g. `xc-k3f9q2-4.1.2-pv-utc-v0911`,
 * and translates back in what it returns (see DECISIONS.md, "Names per run").
 */
import { createHash, randomBytes } from "node:crypto";
import { HarnessError } from "../errors.js";

/**
 * Characters every xend under test accepts in a name (`XendDomainInfo._checkName`: 3.x allows
 * `[A-Za-z0-9_.:/+-]`, 4.1 drops `/`); we also leave out `:` and `+` (form decoding turns a raw `+`
 * into a space before libvirt 0.9.5 escaped it).
 */
export const NAME_CHARS = /^[A-Za-z0-9_.-]+$/;
/**
 * Our own cap on a live name's length. xend checks no length, but the name ends up in file names
 * (e.g. /var/log/xen/qemu-dm-<name>.log), xenstore and `xm list`; 64 leaves room for all of them.
 */
export const NAME_MAX = 64;
/** A run id: lower-case letters and digits (default: 6 random ones). */
export const RUN_ID = /^[a-z0-9]{1,16}$/;

/** A fresh random run id: 6 characters of [a-z0-9] (about 2·10⁹ values). */
export function newRunId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (const b of randomBytes(6)) out += alphabet[b % 36];
  return out;
}

export function checkRunId(runId: string, what = "run id"): string {
  if (!RUN_ID.test(runId)) throw new HarnessError("input.usage", `${what} '${runId}': expected 1 to 16 lower-case letters or digits`);
  return runId;
}

/**
 * The name a runner-level domain name gets on a live xend: `<prefix><run>-<xend>-<rest>`, where `rest`
 * is the runner's name without the prefix. Longer than NAME_MAX: `rest` is cut and ends in a short hash
 * of the whole runner name, so distinct names stay distinct.
 */
export function liveNameFor(logical: string, o: { prefix: string; runId: string; xend: string }): string {
  const rest = logical.startsWith(o.prefix) ? logical.slice(o.prefix.length) : logical;
  const head = `${o.prefix}${o.runId}-${o.xend}-`;
  let name = head + rest;
  if (name.length > NAME_MAX) {
    const hash = createHash("sha256").update(logical).digest("hex").slice(0, 8);
    const room = NAME_MAX - head.length - hash.length - 1;
    if (room < 1) throw new HarnessError("backend.refused", `live backend: no room for a domain name within ${NAME_MAX} characters after '${head}'`);
    name = `${head}${rest.slice(0, room)}-${hash}`;
  }
  if (!NAME_CHARS.test(name)) throw new HarnessError("backend.refused", `live backend: '${name}' is not a name every xend accepts (letters, digits, '_', '.', '-')`);
  return name;
}

/** `4.1.2` → [4, 1, 2]; undefined when not dotted whole numbers. */
function parts(v: string): number[] | undefined {
  if (!/^\d+(\.\d+)*$/.test(v)) return undefined;
  return v.split(".").map(Number);
}

/**
 * Is the host's version exactly the wanted one? Compared number by number, a missing trailing
 * number counting as 0: `3.2` is `3.2.0`, but `4.1` is not `4.1.2` (no prefix matching).
 */
export function versionMatches(wanted: string, host: string): boolean {
  const w = parts(wanted);
  const h = parts(host);
  if (!w || !h) return false;
  const n = Math.max(w.length, h.length);
  for (let i = 0; i < n; i++) if ((w[i] ?? 0) !== (h[i] ?? 0)) return false;
  return true;
}
