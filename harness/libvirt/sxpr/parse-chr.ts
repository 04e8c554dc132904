/** xenParseSxprChar: a character device from xend's string form (`pty`, `/dev/ttyS0`, `tcp:host:port,server`, …). */
import { HarnessError } from "../../errors.js";
import type { ChrSourceDef as ChrSource } from "../def/index.js";

/** What a release's xenParseSxprChar knows, asked of the table once per parse. */
export interface ChrRules {
  /** virDomainChr at the release (../def chrTypes). */
  types: readonly string[];
  /** How a listening tcp/unix device is marked: ',server' (chr-server-nowait) or ',listen'. */
  listenWord: string;
  /** A /dev/… device keeps its path (serial-ports; before, only the type was set). */
  devPath: boolean;
}

function malformed(): never {
  throw new HarnessError("libvirt.internal", "malformed char device string");
}

export function parseChr(text: string, tty: string | undefined, rules: ChrRules): ChrSource {
  const { listenWord, devPath } = rules;
  let value = text;
  let type: string;
  let telnet = false;
  if (text.startsWith("/")) {
    // Before v0.9.x only the type was set for a device path; the path was never copied.
    return devPath ? { type: "dev", path: text } : { type: "dev" };
  }
  let prefix = text;
  const colon = text.indexOf(":");
  if (colon >= 0) {
    prefix = text.slice(0, colon);
    value = text.slice(colon + 1);
  }
  if (prefix.startsWith("telnet")) {
    type = "tcp";
    telnet = true;
  } else {
    if (!rules.types.includes(prefix)) throw new HarnessError("libvirt.internal", `unknown chr device type '${prefix}'`);
    type = prefix;
  }
  switch (type) {
    case "pty":
      return { type: "pty", path: tty };
    case "file":
    case "pipe":
      return { type, path: value };
    case "dev":
      return { type: "dev" };
    case "tcp": {
      const off = value.indexOf(":");
      if (off < 0) malformed();
      const host = off > 0 ? value.slice(0, off) : undefined;
      const rest = value.slice(off);
      const off2 = rest.indexOf(",");
      const service = off2 < 0 ? rest.slice(1) : rest.slice(1, off2);
      const listen = off2 >= 0 && rest.slice(off2).includes(listenWord);
      return { type: "tcp", host, service, listen, protocol: telnet ? "telnet" : "raw" };
    }
    case "udp": {
      const off = value.indexOf(":");
      if (off < 0) malformed();
      const connectHost = off > 0 ? value.slice(0, off) : undefined;
      const rest = value.slice(off);
      const at = rest.indexOf("@");
      if (at >= 0) {
        const connectService = rest.slice(1, at);
        const afterAt = rest.slice(at);
        const off3 = afterAt.indexOf(":");
        if (off3 < 0) malformed();
        const bindHost = off3 > 1 ? afterAt.slice(1, off3) : undefined;
        const bindService = afterAt.slice(off3 + 1);
        return { type: "udp", connectHost, connectService, bindHost, bindService };
      }
      return { type: "udp", connectHost, connectService: rest.slice(1) };
    }
    case "unix": {
      const off = value.indexOf(",");
      const path = off >= 0 ? value.slice(0, off) : value;
      const listen = off >= 0 && value.slice(off).includes(listenWord);
      return { type: "unix", path, listen };
    }
    default:
      return { type };
  }
}
