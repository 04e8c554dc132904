/**
 * `src:DIR` as a libvirt version: a built profile answering through the tree's own C code.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { findProjectConfig } from "../../config/index.js";
import { HarnessError } from "../../errors.js";
import type { ConvertOptions, FormatOutcome, ParseOutcome, Profile } from "../types.js";
import type { WireEncoding } from "../wire.js";
import { buildTree, type Build } from "./build.js";
import { compileDriver, DriverProcess, type DriverEra, type DriverReply, type NativeCommand } from "./driver.js";
import { inspectTree, treeLabel, type TreeInfo } from "./tree.js";

export interface BuiltProfile extends Profile {
  readonly tree: TreeInfo;
  readonly spec: string;
  readonly label: string;
  format(xml: string, opts: ConvertOptions): Promise<FormatOutcome>;
  parse(sxpr: string, opts: ConvertOptions): Promise<ParseOutcome>;
  /** Build (first time: minutes; after a change: an incremental make) and start the driver. */
  prepare(log?: (line: string) => void): Promise<void>;
  /** The define request's body as this release's xend client would send it (driver `wire`). */
  defineBody(xml: string, opts: ConvertOptions): Promise<{ kind: "ok" | "none"; body: string }>;
  /** After prepare: the build and the driver's era. */
  readonly built: { build: Build; era: DriverEra; driver: DriverProcess } | null;
  /**
   * Why the tree's own xend client cannot talk to xend (`--wire native`), or null when it can: 4.3.0
   * removed the client; a release that cannot read xend's replies (1.2.1) says so.
   */
  readonly nativeRefusal: string | null;
  /**
   * One command of the native wire (xopen/xdefine/xstart/xfetch/xdestroy/xdelete/xclose, see
   * driver/xcdriver.c): the tree's own xend client, in a driver process of its own (its HTTP waits
   * never hold up conversions).
   */
  native(cmd: NativeCommand, arg: number, body: string): Promise<DriverReply>;
  close(): void;
  /** Called with every conversion answered (recording a build's outputs: record.ts). */
  onConversion?: (c: Conversion) => void;
}

export interface Conversion {
  op: "to-sxpr" | "to-xml";
  version: number;
  input: string;
  result: { kind: "ok" | "err"; text: string };
}

export function isSourceVersion(v: string): boolean {
  return v.trim().startsWith("src:");
}

/** libvirt's messages start with the error domain's text; the code the models use for each. */
export function errorFor(message: string): HarnessError {
  const code = /^unsupported configuration/i.test(message) ? "libvirt.unsupported" : /^XML error|^(XML description|failed to parse)/i.test(message) ? "libvirt.parse" : "libvirt.internal";
  // The message without the error code's own text (virErrorMsg: "unsupported configuration: ",
  // "internal error: "), as the models state libvirt's messages; the code keeps what it was.
  const bare = message.replace(/^(unsupported configuration|internal error):? /i, "");
  return new HarnessError(code, bare);
}

function wireOf(tree: TreeInfo): WireEncoding {
  if (!tree.hasXendClient) return "uri";
  const xi = fs.readFileSync(path.join(tree.dir, "src/xen/xend_internal.c"), "utf8");
  const at = xi.indexOf("xend_op_ext(");
  return /virBufferURIEncodeString/.test(xi.slice(Math.max(0, at), at + 1500)) ? "uri" : "raw";
}

const open = new Set<BuiltProfile>();

/** Driver processes of the native wire per build, and handles per process (xcdriver.c's XC_MAX_CONN is 64). */
const NATIVE_POOL = 4;
const HANDLES = 1000;

/** Stop every driver process this process started (the CLI calls it before exiting). */
export function closeBuiltProfiles(): void {
  for (const p of open) p.close();
  open.clear();
}

/** Why this tree's own xend client cannot be the wire, or null (see BuiltProfile.nativeRefusal). */
function nativeRefusalOf(tree: TreeInfo, unusable: string | undefined): string | null {
  if (!tree.hasXendClient) return `the tree is libvirt ${tree.version}, and 4.3.0 removed the xend client: only our wire`;
  if (unusable) return `the tree is libvirt ${tree.version}: ${unusable}`;
  return null;
}

export function makeBuiltProfile(
  spec: string,
  cwd: string,
  envIn: NodeJS.ProcessEnv,
  modelIdOf: (version: string) => string | undefined,
  unusableOf: (version: string) => string | undefined = () => undefined,
): BuiltProfile {
  // Where it builds: --build-in / XEND_COMPAT_BUILD_IN, else the project config's `build-in`, else auto.
  const configured = envIn.XEND_COMPAT_BUILD_IN ? undefined : findProjectConfig(cwd)?.buildIn;
  const env = configured ? { ...envIn, XEND_COMPAT_BUILD_IN: configured } : envIn;
  const dirArg = spec.trim().slice(4);
  if (!dirArg) throw new HarnessError("input.version", "'src:' needs a directory: src:DIR (a libvirt source tree)");
  const tree = inspectTree(dirArg, cwd, env.XEND_COMPAT_GNULIB || undefined);
  const id = `src:${tree.version}@${tree.commit ? tree.commit.slice(0, 12) : "nogit"}${tree.dirty ? "+" + tree.dirty : ""}`;
  const label = treeLabel(tree, `src:${dirArg}`);
  let built: BuiltProfile["built"] = null;
  // The native wire's driver processes: a small pool, so cells running at once do not queue behind
  // one process's blocking HTTP. A connection handle names its process: slot * HANDLES + handle.
  const nativeDrivers: DriverProcess[] = [];
  const generation = new Map<number, number>();
  let nextSlot = 0;
  let preparing: Promise<void> | null = null;
  const timeoutMs = Number(env.XEND_COMPAT_DRIVER_TIMEOUT_MS) > 0 ? Number(env.XEND_COMPAT_DRIVER_TIMEOUT_MS) : 20_000;
  const profile: BuiltProfile = {
    id,
    first: tree.version,
    last: tree.version,
    summary: `${label}: the tree's own C code through xend-compat's driver`,
    wire: wireOf(tree),
    label,
    tree,
    spec,
    replayAs: modelIdOf(tree.version),
    nativeRefusal: nativeRefusalOf(tree, unusableOf(tree.version)),
    get built() {
      return built;
    },
    prepare(log) {
      if (!preparing) {
        preparing = (async () => {
          const build = await buildTree(tree, { env, progress: log });
          const { binary, era } = compileDriver(build);
          const driver = new DriverProcess(binary, timeoutMs, (bin) => build.place.spawnDriver(bin));
          built = { build, era, driver };
          open.add(profile);
        })();
        preparing.catch(() => {
          preparing = null;
        });
      }
      return preparing;
    },
    async format(xml: string, opts: ConvertOptions): Promise<FormatOutcome> {
      const r = await call(profile, "to-sxpr", opts, xml);
      return { sxpr: r, warnings: [] };
    },
    async parse(sxpr: string, opts: ConvertOptions): Promise<ParseOutcome> {
      const r = await call(profile, "to-xml", opts, sxpr);
      return { xml: r, warnings: [] };
    },
    async defineBody(xml, opts) {
      await profile.prepare();
      const r = await built!.driver.request("wire", opts.xendConfigVersion, xml);
      if (r.kind === "err") throw errorFor(r.text);
      return { kind: r.kind === "ok" ? "ok" : "none", body: r.text };
    },
    async native(cmd, arg, body) {
      await profile.prepare();
      if (cmd === "xopen") {
        const slot = nextSlot++ % NATIVE_POOL;
        const d = (nativeDrivers[slot] ??= new DriverProcess(built!.driver.binary, timeoutMs, (bin) => built!.build.place.spawnDriver(bin)));
        const r = await d.request(cmd, arg, body);
        if (r.kind !== "ok") return r;
        const [h, v] = r.text.split(" ");
        const handle = slot * HANDLES + Number(h);
        // the process that holds the connection (a restarted one numbers its handles anew)
        generation.set(handle, d.starts);
        return { kind: "ok", text: `${handle} ${v}` };
      }
      const slot = Math.floor(arg / HANDLES);
      const d = nativeDrivers[slot];
      if (!d || !d.running || generation.get(arg) !== d.starts) return { kind: "err", text: "this xend connection is gone: the driver process that held it crashed or hung and was restarted" };
      if (cmd === "xclose") generation.delete(arg);
      return d.request(cmd, arg % HANDLES, body);
    },
    close() {
      built?.driver.close();
      for (const d of nativeDrivers.splice(0)) d.close();
    },
  };
  return profile;
}

async function call(p: BuiltProfile, cmd: "to-sxpr" | "to-xml", opts: ConvertOptions, body: string): Promise<string> {
  await p.prepare();
  const r: DriverReply = await p.built!.driver.request(cmd, opts.xendConfigVersion, body);
  if (p.onConversion && r.kind !== "no") p.onConversion({ op: cmd, version: opts.xendConfigVersion, input: body, result: { kind: r.kind, text: r.text } });
  if (r.kind === "ok") return r.text;
  if (r.kind === "err") throw errorFor(r.text);
  throw new HarnessError("internal", `driver: ${r.text}`);
}

/** Built profiles by spec and directory, so one process builds and drives each tree once. */
const bySpec = new Map<string, BuiltProfile>();

/**
 * The resolver's first step (called by resolveProfile before the model profiles): `src:DIR` gives the
 * built profile of that tree (inspected now, built on `prepare`); anything else gives undefined.
 */
export function resolveSourceProfile(
  version: string,
  modelIdOf: (version: string) => string | undefined,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; unusableOf?: (version: string) => string | undefined } = {},
): BuiltProfile | undefined {
  if (!isSourceVersion(version)) return undefined;
  const cwd = opts.cwd ?? process.cwd();
  const key = `${cwd}\0${version.trim()}`;
  let p = bySpec.get(key);
  if (!p) {
    p = makeBuiltProfile(version, cwd, opts.env ?? process.env, modelIdOf, opts.unusableOf);
    bySpec.set(key, p);
  }
  return p;
}

/** Forget resolved trees (a test that changes a tree between commands within one process). */
export function forgetSourceProfiles(): void {
  closeBuiltProfiles();
  bySpec.clear();
}
