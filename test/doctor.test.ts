import { describe, expect, it } from "vitest";
import type { CliIO } from "../harness/cli.js";
import { main } from "../harness/cli.js";
import { defaultProbes, doctor, runProbes, type DoctorHost, type Probe } from "../harness/cli/doctor.js";

/** A host where nothing exists unless the test says so. */
function fakeHost(over: Partial<DoctorHost> & { files?: Record<string, string>; dirs?: string[]; sockets?: string[] } = {}): DoctorHost {
  const files = over.files ?? {};
  const dirs = new Set(over.dirs ?? []);
  const sockets = new Set(over.sockets ?? []);
  return {
    env: {},
    root: "/pkg",
    exists: (p) => p in files || dirs.has(p) || sockets.has(p),
    isDir: (p) => dirs.has(p),
    isSocket: (p) => sockets.has(p),
    canReadWrite: () => true,
    readText: (p) => files[p],
    listFiles: (dir) => Object.keys(files).filter((f) => f.startsWith(dir + "/")),
    run: (file, args) => {
      if (file === "bash" && args[1] === "tag") return { code: 0, stdout: `xend-compat/${args[2]}:t\n`, stderr: "" };
      if (file.endsWith("/python2.7") && file in files) return { code: 0, stdout: "", stderr: "Python 2.7.18\n" };
      return { code: -1, stdout: "", stderr: "ENOENT" };
    },
    dockerGet: async () => ({ ok: false, error: "ENOENT" }),
    ...over,
  };
}

function captureIO(env: NodeJS.ProcessEnv = {}): CliIO & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (s) => lines.push(s), err: (s) => lines.push(s), isTTY: false, env, cwd: "/" };
}

const byName = (rows: { name: string; result: { status: string; detail: string; fix?: string } }[]) =>
  Object.fromEntries(rows.map((r) => [r.name, r.result]));

describe("doctor", () => {
  it("runs injected probes in order, each seeing the results of the earlier ones", async () => {
    const seen: string[][] = [];
    const probes: Probe[] = ["a", "b", "c"].map((name) => ({
      name,
      run: (_h, earlier) => {
        seen.push([...earlier.keys()]);
        return earlier.get("a")?.status === "missing" ? { status: "skipped", detail: "skipped: a is missing" } : { status: "missing", detail: name };
      },
    }));
    const rows = await runProbes(probes, fakeHost());
    expect(seen).toEqual([[], ["a"], ["a", "b"]]);
    expect(rows.map((r) => [r.name, r.result.status])).toEqual([
      ["a", "missing"],
      ["b", "skipped"],
      ["c", "skipped"],
    ]);
  });

  it("turns a throwing probe into a warning line instead of failing", async () => {
    const rows = await runProbes([{ name: "boom", run: () => { throw new Error("kaput"); } }], fakeHost());
    expect(rows[0].result).toMatchObject({ status: "warn", detail: "probe failed: kaput" });
  });

  it("without an engine: says so with a fix, and skips the probes that need one, saying why", async () => {
    const r = byName(await runProbes(defaultProbes(), fakeHost({ env: { XEND_COMPAT_NO_ENGINE: "no dockerd here" } })));
    expect(r["docker engine"].status).toBe("missing");
    expect(r["docker engine"].detail).toContain("unix:///var/run/docker.sock");
    expect(r["docker engine"].detail).toContain("no dockerd here");
    expect(r["docker engine"].fix).toContain("apt-get install docker.io");
    // Safe on a workstation: the advice never runs our CI script (which tears down what it starts).
    expect(r["docker engine"].fix).not.toMatch(/run ci\/containers\.sh/);
    expect(r["testcontainers settings"]).toMatchObject({ status: "skipped", detail: expect.stringContaining("no container engine") });
    expect(r["base images"].status).toBe("skipped");
  });

  it("with an engine: reports its version and flags testcontainers settings that would pull from a registry", async () => {
    const host = fakeHost({
      env: { DOCKER_HOST: "unix:///run/d.sock" },
      files: { "/.dockerenv": "" },
      dockerGet: async (path) =>
        path === "/version"
          ? { ok: true, status: 200, body: JSON.stringify({ Version: "20.10.24", ApiVersion: "1.41" }) }
          : { ok: true, status: path.includes("node-scratch") ? 200 : 404, body: "{}" },
    });
    const r = byName(await runProbes(defaultProbes(), host));
    expect(r["docker engine"]).toMatchObject({ status: "ok", detail: "Docker Engine 20.10.24 (API 1.41) at unix:///run/d.sock" });
    expect(r["testcontainers settings"].status).toBe("warn");
    expect(r["testcontainers settings"].detail).toContain("/.dockerenv");
    expect(r["testcontainers settings"].fix).toContain("TESTCONTAINERS_RYUK_DISABLED=true");
    expect(r["base images"]).toMatchObject({ status: "warn", detail: expect.stringContaining("missing: xend-compat/debian-py27:t") });

    const ok = byName(
      await runProbes(defaultProbes(), { ...host, env: { TESTCONTAINERS_RYUK_DISABLED: "true", TESTCONTAINERS_HOST_OVERRIDE: "127.0.0.1" } }),
    );
    expect(ok["testcontainers settings"].status).toBe("ok");
  });

  it("finds pyenv's Python 2.7.18 and says how to call it", async () => {
    const py = "/py/versions/2.7.18/bin/python2.7";
    const r = byName(await runProbes(defaultProbes(), fakeHost({ env: { PYENV_ROOT: "/py" }, files: { [py]: "" } })));
    expect(r["python 2.7"].status).toBe("ok");
    expect(r["python 2.7"].detail).toContain("Python 2.7.18");
    expect(r["python 2.7"].detail).toContain("PYENV_VERSION=2.7.18 python2.7");
    const none = byName(await runProbes(defaultProbes(), fakeHost({ env: { PYENV_ROOT: "/py" } })));
    expect(none["python 2.7"]).toMatchObject({ status: "missing", fix: expect.stringContaining("pyenv install 2.7.18") });
  });

  it("checks each Xen tree's env var, its tools/python/xen/xend and its provenance", async () => {
    const host = fakeHost({
      env: { XEND_COMPAT_XEN_SRC_4_1_2: "/x/412", XEND_COMPAT_XEN_SRC_3_2: "/x/32", XEND_COMPAT_XEN_SRC_3_4_3: "/nope" },
      dirs: ["/x/412", "/x/412/tools/python/xen/xend", "/x/32"],
      files: { "/x/412/.xend-compat-origin": "repo=github:xen-project/xen\ncommit=eba9045a7dc8c358a15653604d1a7cb2dbc8a239\n" },
    });
    const r = byName(await runProbes(defaultProbes(), host));
    expect(r["xen tree 4.1.2"]).toMatchObject({ status: "ok", detail: expect.stringContaining("github:xen-project/xen@eba9045a7dc8") });
    expect(r["xen tree 3.2"]).toMatchObject({ status: "missing", detail: expect.stringContaining("no tools/python/xen/xend") });
    expect(r["xen tree 3.4.3"]).toMatchObject({ status: "missing", detail: expect.stringContaining("no such directory") });
    const unset = byName(await runProbes(defaultProbes(), fakeHost()));
    expect(unset["xen tree 4.1.2"]).toMatchObject({ status: "skipped", detail: "skipped: XEND_COMPAT_XEN_SRC_4_1_2 is not set" });
  });

  it("checks the live xend socket's permissions", async () => {
    const s = "/var/lib/xend/xend-socket";
    const denied = byName(await runProbes(defaultProbes(), fakeHost({ sockets: [s], canReadWrite: () => false })));
    expect(denied["live xend socket"]).toMatchObject({ status: "warn", detail: expect.stringContaining("permission denied") });
    const fine = byName(await runProbes(defaultProbes(), fakeHost({ sockets: [s] })));
    expect(fine["live xend socket"].status).toBe("ok");
    const absent = byName(await runProbes(defaultProbes(), fakeHost()));
    expect(absent["live xend socket"].status).toBe("skipped");
  });

  it("counts recordings per xend version and sums up what each backend can do", async () => {
    const host = fakeHost({
      dirs: ["/pkg/fixtures/recordings/4.1.2"],
      files: { "/pkg/fixtures/recordings/4.1.2/0.9.11/hvm-utc.yaml": "", "/pkg/fixtures/recordings/4.1.2/0.9.11/pv.yaml": "", "/pkg/fixtures/recordings/4.1.2/README.md": "" },
    });
    const r = byName(await runProbes(defaultProbes(), host));
    expect(r["recordings 4.1.2"]).toMatchObject({ status: "ok", detail: expect.stringMatching(/^2 recording/) });
    expect(r["recordings 3.2"]).toMatchObject({ status: "missing", fix: expect.stringContaining("record --backend sandbox --xend 3.2") });
    expect(r.backends.detail).toContain("recorded: 4.1.2");
    expect(r.backends.detail).toContain("container: none");
  });

  it("prints one line per probe with status, and exits 0 even when everything is missing", async () => {
    const io = captureIO();
    const code = await doctor(io, false, defaultProbes(), fakeHost());
    expect(code).toBe(0);
    expect(io.lines.length).toBe(defaultProbes().length);
    expect(io.lines[0]).toMatch(/^MISSING docker engine .* -> fix: /);
    const j = captureIO();
    await doctor(j, true, defaultProbes(), fakeHost());
    const parsed = JSON.parse(j.lines.join("\n")) as { probes: { name: string; status: string }[] };
    expect(parsed.probes.map((p) => p.name)).toEqual(defaultProbes().map((p) => p.name));
  });

  it("rejects unknown options with exit 2", async () => {
    const io = captureIO();
    expect(await main(["doctor", "--frobnicate"], io)).toBe(2);
    expect(io.lines.join("\n")).toContain("--frobnicate");
  });

  it("names the Debian packages a src:DIR build lacks, with the one command that installs them (no dpkg: probes)", async () => {
    // No dpkg status database: probes. Everything present except libxen-dev's header and the rpcgen program.
    const host = fakeHost({
      env: { PATH: "/usr/bin" },
      exists: (p) => p !== "/usr/include/xenstore.h" && p !== "/usr/bin/rpcgen",
      run: () => ({ code: 0, stdout: "", stderr: "" }),
    });
    const rows = byName(await runProbes(defaultProbes(), host));
    const r = rows["libvirt build packages"];
    expect(r.status).toBe("missing");
    expect(r.detail).toMatch(/missing \(by probes of PATH and headers \(no dpkg status\)\) for every era: rpcsvc-proto, libxen-dev; no Docker engine either/);
    expect(r.fix).toMatch(/^apt-get install -y --no-install-recommends rpcsvc-proto libxen-dev /);
    const ok = byName(await runProbes(defaultProbes(), fakeHost({ env: { PATH: "/usr/bin" }, exists: () => true, run: () => ({ code: 0, stdout: "", stderr: "" }) })));
    expect(ok["libvirt build packages"].status).toBe("ok");
  });

  it("reads dpkg's status database where there is one: per era, and the container way out when an engine answers", async () => {
    const installed = ["gcc", "make", "perl", "python3", "python3-lib2to3", "pkg-config", "autoconf", "automake", "libtool", "autopoint", "gettext", "rpcsvc-proto", "xsltproc", "libxml2-utils", "libxml2-dev", "libgnutls28-dev", "libgcrypt20-dev", "libtirpc-dev", "libreadline-dev"];
    const status = [...installed.map((p) => `Package: ${p}\nStatus: install ok installed\nVersion: 1\n`), "Package: libxen-dev\nStatus: deinstall ok config-files\n"].join("\n");
    const files = { "/s/status": status };
    // Every probe file "exists": the status database alone decides.
    const base = { env: { XEND_COMPAT_DPKG_STATUS: "/s/status" }, files, exists: () => true, run: () => ({ code: 0, stdout: "", stderr: "" }) };
    const r = byName(await runProbes(defaultProbes(), fakeHost(base)))["libvirt build packages"];
    expect(r.status).toBe("missing");
    expect(r.detail).toContain("for every era: libxen-dev; libvirt >= 3.0.0: libnl-3-dev, libnl-route-3-dev;");
    expect(r.fix).toMatch(/^apt-get install -y --no-install-recommends libxen-dev libnl-3-dev libnl-route-3-dev /);
    const withEngine = fakeHost({
      ...base,
      dockerGet: async (path) => (path === "/version" ? { ok: true, status: 200, body: '{"Version":"20.10","ApiVersion":"1.41"}' } : { ok: true, status: 404, body: "" }),
    });
    const w = byName(await runProbes(defaultProbes(), withEngine))["libvirt build packages"];
    expect(w.status).toBe("warn");
    expect(w.detail).toMatch(/a Docker engine answers, so src:DIR builds run in a container of xend-compat\/libvirt-build:bookworm-[0-9a-f]{12} \(built on first use/);
  });
});
