/**
 * Our C driver (driver/xcdriver.c) compiled against a build, and the persistent process that speaks
 * its line protocol. A crash or hang inside the tree's code fails that one request (driver.crash /
 * driver.hang, with the reason); the next request starts a fresh process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { HarnessError } from "../../errors.js";
import { assetDir, type Build } from "./build.js";

export interface DriverEra {
  /** Macros for xcdriver.c (see its header comment). */
  defines: Record<string, string>;
  /** One line naming the API era, for reports and provenance. */
  summary: string;
}

function read(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** The prototype text of `fn` in a header (from its name to the closing parenthesis). */
function prototype(text: string, fn: string): string {
  const i = text.search(new RegExp(`\\b${fn}\\s*\\(`));
  if (i < 0) return "";
  const j = text.indexOf(")", i);
  return text.slice(i, j + 1).replace(/\s+/g, " ");
}

/** Work out the API era of a built tree from its own headers. */
export function driverEra(copy: string): DriverEra {
  const src = path.join(copy, "src");
  const dc = read(path.join(src, "conf/domain_conf.h"));
  const parse = prototype(dc, "virDomainDefParseString");
  const fmt = prototype(dc, "virDomainDefFormat");
  const d: Record<string, string> = {};
  let sxprHdr = "";
  if (fs.existsSync(path.join(src, "xenconfig/xen_sxpr.h"))) sxprHdr = read(path.join(src, "xenconfig/xen_sxpr.h"));
  else if (fs.existsSync(path.join(src, "xenxs/xen_sxpr.h"))) sxprHdr = read(path.join(src, "xenxs/xen_sxpr.h"));
  if (!sxprHdr) d.XC_SXPR_API = "1";
  else d.XC_SXPR_API = /xenFormatSxpr\s*\([^)]*xendConfigVersion/.test(sxprHdr) ? "2" : "3";
  const hasXmlopt = /xmlopt/.test(parse);
  const nArgs = parse ? parse.split(",").length : 0;
  if (!hasXmlopt) d.XC_DEFPARSE = /expectedVirtTypes|virtTypes/.test(parse) ? "2" : "1";
  else if (/parseOpaque/.test(parse)) d.XC_DEFPARSE = "5";
  else d.XC_DEFPARSE = nArgs >= 5 ? "3" : "4";
  d.XC_DEFFORMAT_CAPS = /virCapsPtr/.test(fmt) ? "1" : "0";
  const libxlOnly = !fs.existsSync(path.join(src, "xen/xen_driver.h"));
  d.XC_XMLOPT = hasXmlopt || d.XC_SXPR_API === "3" ? (libxlOnly ? "2" : "1") : "0";
  d.XC_CAPS = /testXLInitCaps/.test(read(path.join(copy, "tests/testutilsxen.h"))) && !/testXenCapsInit/.test(read(path.join(copy, "tests/testutilsxen.h"))) ? "2" : "1";
  const xi = read(path.join(src, "xen/xend_internal.c"));
  const opExt = xi.slice(Math.max(0, xi.indexOf("xend_op_ext(")), xi.indexOf("xend_op_ext(") + 1500);
  d.XC_WIRE = !xi ? "0" : /virBufferURIEncodeString/.test(opExt) ? "2" : "1";
  d.XC_PARSE_FLAG = /VIR_DOMAIN_DEF_PARSE_INACTIVE/.test(dc) ? "VIR_DOMAIN_DEF_PARSE_INACTIVE" : "VIR_DOMAIN_XML_INACTIVE";
  // The tree's own xend client, driven by the native-wire commands (xopen/xdefine/...).
  const xh = read(path.join(src, "xen/xend_internal.h"));
  const defineProto = prototype(xh, "xenDaemonDomainDefineXML");
  d.XC_NATIVE = !xi || !defineProto ? "0" : /virDomainDefPtr/.test(defineProto) ? "2" : "1";
  d.XC_DESTROY_FLAGS = /xenDaemonDomainDestroyFlags\s*\(/.test(xh) ? "1" : "0";
  d.XC_VIRURI = fs.existsSync(path.join(src, "util/viruri.h")) ? "1" : "0";
  const buf = ["util/virbuffer.h", "util/virbuf.h", "util/buf.h"].find((f) => fs.existsSync(path.join(src, f)));
  d.XC_INC_BUF = `"${path.basename(buf ?? "buf.h")}"`;
  const api = { "1": "xenDaemonFormatSxpr/xenDaemonParseSxprString (src/xen/xend_internal.c)", "2": "xenFormatSxpr/xenParseSxprString with xendConfigVersion", "3": "xenFormatSxpr/xenParseSxprString without xendConfigVersion" }[d.XC_SXPR_API];
  const wire = { "0": "no xend client", "1": "define body unescaped (xend_op_ext)", "2": "define body through virBufferURIEncodeString" }[d.XC_WIRE];
  const native = { "0": "no native wire", "1": "native wire: xenDaemonDomainDefineXML(conn, xml)", "2": "native wire: xenDaemonDomainDefineXML(conn, def)" }[d.XC_NATIVE];
  return { defines: d, summary: `${api}; virDomainDefParseString shape ${d.XC_DEFPARSE}; ${wire}; ${native}` };
}

/** Compile (or bring up to date) xcdriver against the build, with the tests' own flags and libraries. */
export function compileDriver(b: Build): { binary: string; era: DriverEra; log: string } {
  const era = driverEra(b.copy);
  const drv = path.join(assetDir("driver"), "xcdriver.c");
  // One binary per driver source: builds are shared by every checkout of xend-compat on the machine
  // (the cache is per tree), so two versions of the driver must not overwrite each other's binary.
  const tag = createHash("sha256").update(read(drv)).update(JSON.stringify(era.defines)).digest("hex").slice(0, 10);
  const bin = `xcdriver-${tag}`;
  const mk = path.join(b.cacheDir, `${bin}.mk`);
  const defs = Object.entries(era.defines)
    .map(([k, v]) => `-D${k}='${v}'`)
    .join(" ");
  const incs = ["src", "src/util", "src/conf", "src/xen", "src/xenxs", "src/xenconfig", "src/libxl", "include", "tests"]
    .map((d) => `-I$(top_srcdir)/${d}`)
    .join(" ");
  fs.writeFileSync(
    mk,
    [
      "# xend-compat: our driver, compiled and linked like the tree's own sexpr2xmltest.",
      `XC_SRC = ${drv}`,
      `${bin}.o: $(XC_SRC)`,
      `\t$(CC) $(DEFS) $(DEFAULT_INCLUDES) $(INCLUDES) $(AM_CPPFLAGS) $(CPPFLAGS) $(AM_CFLAGS) $(CFLAGS) ${incs} ${defs} -w -c -o $@ $(XC_SRC)`,
      `${bin}: ${bin}.o testutilsxen.o $(sexpr2xmltest_DEPENDENCIES)`,
      `\t$(LIBTOOL) --silent --tag=CC --mode=link $(CCLD) $(AM_CFLAGS) $(CFLAGS) $(AM_LDFLAGS) $(LDFLAGS) -o $@ ${bin}.o testutilsxen.o $(sexpr2xmltest_LDADD) $(LIBS)`,
      "",
    ].join("\n"),
  );
  const r = b.place.spawnSync("make", ["-s", "-C", path.join(b.copy, "tests"), "-f", "Makefile", "-f", mk, bin], { cwd: b.copy, vars: { LC_ALL: "C" } });
  const log = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  fs.writeFileSync(path.join(b.cacheDir, `${bin}.log`), log);
  if (r.status !== 0)
    throw new HarnessError(
      "input.build",
      `our driver does not compile against libvirt ${b.tree.version} (${era.summary}); log: ${path.join(b.cacheDir, `${bin}.log`)}; last lines:\n${log.trimEnd().split("\n").slice(-12).join("\n")}`,
    );
  return { binary: path.join(b.copy, "tests", bin), era, log };
}

export type DriverCommand = "version" | "to-sxpr" | "to-xml" | "wire" | NativeCommand;
/** The native-wire commands: the tree's own xend client (see xcdriver.c). */
export type NativeCommand = "xopen" | "xdefine" | "xstart" | "xfetch" | "xdestroy" | "xdelete" | "xclose";

export interface DriverReply {
  kind: "ok" | "err" | "no";
  text: string;
}

interface Pending {
  header: string;
  body: Buffer;
  resolve: (r: DriverReply) => void;
  reject: (e: unknown) => void;
}

/** One persistent driver process; requests are answered in order. Restarts after a crash or hang. */
export class DriverProcess {
  private child: ChildProcess | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private queue: Pending[] = [];
  private current: Pending | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stderr = "";
  private ready = false;
  private readyVersion = "";
  /** How many times the process had to be started (1 + restarts). */
  starts = 0;

  constructor(
    readonly binary: string,
    readonly timeoutMs = 20_000,
    /** How a process is started (the build's place: the host, or a container of the build image). */
    private readonly launch: (binary: string) => ChildProcess = (bin) => spawn(bin, [], { stdio: ["pipe", "pipe", "pipe"] }),
  ) {}

  private start(): void {
    this.starts++;
    this.ready = false;
    this.buf = Buffer.alloc(0);
    this.stderr = "";
    const child = this.launch(this.binary);
    this.child = child;
    child.stdout!.on("data", (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.pump();
    });
    child.stderr!.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString("utf8")).slice(-4000);
    });
    child.stdin!.on("error", () => {
      /* reported by exit */
    });
    child.on("error", (e) => this.died(`cannot run ${this.binary}: ${e.message}`));
    child.on("exit", (code, signal) => {
      if (this.child !== child) return;
      this.died(signal ? `the driver process was killed by ${signal}` : `the driver process exited with status ${code}`);
    });
  }

  private died(why: string): void {
    const cur = this.current;
    this.child = null;
    this.current = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const err = this.stderr.trim() ? ` (stderr: ${this.stderr.trim().split("\n").slice(-3).join(" | ")})` : "";
    if (cur) cur.reject(new HarnessError("driver.crash", `libvirt's code crashed during this conversion: ${why}${err}`));
    else if (!this.ready && this.queue.length) {
      // Could not even start: fail everything waiting.
      const q = this.queue.splice(0);
      for (const p of q) p.reject(new HarnessError("driver.crash", `the driver did not start: ${why}${err}`));
    }
    if (this.queue.length) this.next();
  }

  private pump(): void {
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl < 0) return;
      const head = this.buf.subarray(0, nl).toString("latin1");
      if (!this.ready) {
        if (!head.startsWith("ready ")) {
          this.buf = this.buf.subarray(nl + 1);
          continue;
        }
        this.ready = true;
        this.readyVersion = head.slice(6);
        this.buf = this.buf.subarray(nl + 1);
        this.next();
        continue;
      }
      const m = /^(ok|err|no) (\d+)$/.exec(head);
      if (!m) {
        this.kill(`unreadable reply line '${head.slice(0, 80)}'`);
        return;
      }
      const n = Number(m[2]);
      if (this.buf.length < nl + 1 + n) return;
      const text = this.buf.subarray(nl + 1, nl + 1 + n).toString("utf8");
      this.buf = this.buf.subarray(nl + 1 + n);
      const cur = this.current;
      this.current = null;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      cur?.resolve({ kind: m[1] as DriverReply["kind"], text });
      this.next();
    }
  }

  private kill(why: string): void {
    const c = this.child;
    if (!c) return;
    this.child = null;
    c.kill("SIGKILL");
    this.died(why);
  }

  private next(): void {
    if (this.current || !this.queue.length) return;
    if (!this.child) {
      this.start();
      return;
    }
    if (!this.ready) return;
    const p = this.queue.shift()!;
    this.current = p;
    this.timer = setTimeout(() => {
      const cur = this.current;
      if (!cur) return;
      this.current = null;
      cur.reject(new HarnessError("driver.hang", `libvirt's code did not answer within ${this.timeoutMs} ms; the driver process was killed and restarted`));
      const c = this.child;
      this.child = null;
      c?.kill("SIGKILL");
      if (this.queue.length) this.next();
    }, this.timeoutMs);
    this.timer.unref?.();
    this.child.stdin!.write(p.header);
    this.child.stdin!.write(p.body);
  }

  request(cmd: DriverCommand, arg: number, body: string): Promise<DriverReply> {
    const b = Buffer.from(body, "utf8");
    return new Promise((resolve, reject) => {
      this.queue.push({ header: `${cmd} ${arg} ${b.length}\n`, body: b, resolve, reject });
      this.next();
    });
  }

  /** Whether a process is running now (false after a crash or hang, until the next request starts one). */
  get running(): boolean {
    return this.child !== null;
  }

  /** The release the process reported when it started (the tree's PACKAGE_VERSION). */
  get version(): string {
    return this.readyVersion;
  }

  close(): void {
    const c = this.child;
    this.child = null;
    if (c) {
      c.stdin?.end("quit 0 0\n");
      setTimeout(() => c.kill("SIGKILL"), 1000).unref();
    }
  }
}
