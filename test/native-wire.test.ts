/**
 * Our wire against the real thing: fixtures/native-wire/<release>.json hold the exact bytes each
 * release's own xend client (built from the tree named in the provenance) sent to a real xend through
 * the recording proxy of `--wire native` (ci/record-native-wire.ts). No tree is needed here: every
 * request our wire model says the release writes (harness/libvirt/wire.ts: the request order per call,
 * the request line and headers, the release's URL encoding of the define body, given the SXPR the
 * tree's formatter produced) must be those bytes exactly, in that order; what our client really
 * writes (harness/xend/client.ts through the transport's serializer) must be the model's bytes; and the
 * shipped recordings of our wire against the same xend (fixtures/recordings/<xend>/<release>/) must
 * hold exactly the real client's requests minus the lookups the model marks (our wire leaves them out).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { libvirtRequestBytes, libvirtRequests, resolveProfile, type WireOp, type WireRequest } from "../harness/libvirt/index.js";
import { XendClient, libvirtGet, libvirtPost, loadRecording, serializeRequest } from "../harness/xend/index.js";

/** Whether libvirt's xend_post judges this reply a refusal (our client's rules, harness/xend/client.ts). */
async function refused(reply: { status: number; body?: string } | null): Promise<boolean> {
  if (!reply) return true;
  const res = { status: reply.status, reason: "", headers: [], body: reply.body ?? "" };
  const client = new XendClient({ send: async () => res, control: async () => ({ ok: false }), end: async () => {} });
  try {
    await client.post("/xend/domain/", "", "judge");
    return false;
  } catch {
    return true;
  }
}

const DIR = path.resolve(__dirname, "..", "fixtures", "native-wire");
/** The releases whose native wire must be on record (one per API era of the xend client). */
const REQUIRED = ["0.8.7", "0.9.10", "0.9.11", "1.3.1"];

interface Fixture {
  format: number;
  release: string;
  provenance: { tree: { source: string; commit: string; configure: string; compiler: string; driver: string }; xend: { xendVersion: string; tree: string; commit: string } };
  cells: {
    cell: string;
    scenario: string;
    domain: string;
    sxpr: string | null;
    requests: { step: string; raw: string; bytes: number; sha256: string; reply: { status: number; body?: string } | null }[];
  }[];
}

function load(release: string): Fixture {
  return JSON.parse(fs.readFileSync(path.join(DIR, `${release}.json`), "utf8")) as Fixture;
}

/** The client call a cell's step label stands for (harness/run/cell.ts names them). */
function opOf(step: string, domain: string, sxpr: string | null, isRefused: boolean): WireOp {
  if (step === "0-node") return { kind: "open" };
  if (/^\d+-define$/.test(step)) {
    if (sxpr === null) throw new Error(`a define without the tree's SXPR`);
    return { kind: "define", name: domain, sxpr, refused: isRefused };
  }
  if (/^\d+-start$/.test(step)) return { kind: "start", name: domain, refused: isRefused };
  if (/^\d+-read$/.test(step)) return { kind: "read", name: domain };
  if (step === "cleanup-destroy") return { kind: "destroy", name: domain };
  if (step === "cleanup-delete") return { kind: "delete", name: domain };
  throw new Error(`a step the cell flow does not make: ${step}`);
}

/** The model's requests for a recorded cell: its steps in order, each expanded by libvirtRequests. */
export async function modelOf(release: string, cell: Fixture["cells"][number]): Promise<{ step: string; req: WireRequest }[]> {
  const encoding = resolveProfile(release).wire;
  const steps: string[] = [];
  for (const r of cell.requests) if (steps[steps.length - 1] !== r.step) steps.push(r.step);
  const out: { step: string; req: WireRequest }[] = [];
  for (const s of steps) {
    // xend's answer to the step's POST decides whether the client goes on (its lookup) or stops
    const post = cell.requests.find((r) => r.step === s && r.raw.startsWith("POST "));
    const op = opOf(s, cell.domain, cell.sxpr, post ? await refused(post.reply) : false);
    for (const req of libvirtRequests(release, encoding, op)) out.push({ step: s, req });
  }
  return out;
}

/** Where the model and a recording part, or null when they are the same bytes in the same order. */
export async function firstDifference(release: string, cell: Fixture["cells"][number]): Promise<string | null> {
  const model = await modelOf(release, cell);
  const got = cell.requests;
  for (let i = 0; i < Math.max(model.length, got.length); i++) {
    const m = model[i];
    const g = got[i];
    if (!m) return `request ${i + 1} (${g.step}): the release sent ${JSON.stringify(g.raw.split("\r\n")[0])}, the model expects no more requests`;
    if (!g) return `request ${i + 1} (${m.step}): the model expects ${m.req.method} ${m.req.path}, the release sent no more requests`;
    const want = libvirtRequestBytes(m.req);
    const have = Buffer.from(g.raw, "utf8");
    if (!want.equals(have)) {
      let k = 0;
      while (k < want.length && want[k] === have[k]) k++;
      const show = (b: Buffer) => JSON.stringify(b.subarray(Math.max(0, k - 20), k + 40).toString("utf8"));
      return `request ${i + 1} (${g.step}): differs at byte ${k}: the release sent ${show(have)}, the model writes ${show(want)}`;
    }
  }
  return null;
}

describe("the native wire recordings (real libvirt xend clients against a real xend)", () => {
  it("hold every required release, with provenance (tree, commit, flags, compiler, xend tree) and intact bytes", () => {
    for (const release of REQUIRED) {
      const f = load(release);
      expect(f.release).toBe(release);
      expect(f.provenance.tree.source).toMatch(/^github:/);
      expect(f.provenance.tree.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(f.provenance.tree.configure).toContain("--with-xen");
      expect(f.provenance.tree.compiler).toMatch(/gcc/);
      expect(f.provenance.xend.tree).toMatch(/xen/);
      expect(f.provenance.xend.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(f.cells.length).toBeGreaterThanOrEqual(10);
      for (const c of f.cells)
        for (const r of c.requests) {
          const b = Buffer.from(r.raw, "utf8");
          expect(b.length).toBe(r.bytes);
          expect(createHash("sha256").update(b).digest("hex")).toBe(r.sha256);
        }
    }
  });

  for (const release of REQUIRED) {
    it(`${release}: our wire model writes exactly the bytes the release's own client sent, in its order`, async () => {
      const f = load(release);
      const differences: [string, string][] = [];
      for (const c of f.cells) {
        const d = await firstDifference(release, c);
        if (d !== null) differences.push([c.cell, d]);
      }
      expect(differences).toEqual([]);
      // Something of each kind was compared: the define body (the encoding), a start, the cleanup.
      const steps = new Set(f.cells.flatMap((c) => c.requests.map((r) => r.step.replace(/^\d+-/, ""))));
      for (const s of ["node", "define", "start", "read", "cleanup-destroy", "cleanup-delete"]) expect(steps).toContain(s);
    });

    it(`${release}: what our client writes for each modelled request is the model's bytes`, async () => {
      const f = load(release);
      for (const c of f.cells)
        for (const { req } of await modelOf(release, c)) {
          const ours = serializeRequest(req.method === "GET" ? libvirtGet(req.path) : libvirtPost(req.path, req.body ?? ""));
          expect(ours.equals(libvirtRequestBytes(req)), `${c.cell}: ${req.method} ${req.path}`).toBe(true);
        }
    });
  }

  for (const release of REQUIRED) {
    it(`${release}: our wire's shipped recordings (our client against real xend ${"4.1.2"}) sent the release's own requests, without its lookups`, async () => {
      const f = load(release);
      const xend = f.provenance.xend.xendVersion;
      const compared: string[] = [];
      for (const c of f.cells) {
        const file = path.resolve(__dirname, "..", "fixtures", "recordings", xend, release, `${c.scenario}.yaml`);
        if (!fs.existsSync(file)) continue;
        const rec = await loadRecording(file);
        const ours = rec.exchanges.flatMap((x) => (x.channel === "xend" ? [serializeRequest(x.request).toString("utf8")] : []));
        const model = await modelOf(release, c);
        const native = c.requests.filter((_, i) => !model[i]?.req.lookup).map((r) => r.raw);
        expect(ours, `${c.cell} vs ${path.relative(process.cwd(), file)}`).toEqual(native);
        compared.push(c.scenario);
      }
      expect(compared.length).toBe(f.cells.length);
    });
  }

  it("can fail: a recording edited by one byte, a lost lookup, or another release's encoding is found", async () => {
    const f = load("0.9.11");
    const cell = f.cells.find((c) => c.requests.some((r) => r.raw.startsWith("POST /xend/domain/ ")))!;
    // one byte of the define body, as an upper-case escape (libvirt writes lower case)
    const edited = structuredClone(cell);
    const post = edited.requests.find((r) => r.raw.startsWith("POST /xend/domain/ "))!;
    post.raw = post.raw.replace("%28", "%2A");
    expect(await firstDifference("0.9.11", edited)).toMatch(/differs at byte/);
    // the lookup after define dropped from the recording
    const lost = structuredClone(cell);
    lost.requests.splice(lost.requests.indexOf(lost.requests.find((r) => r.step.endsWith("-define") && r.raw.startsWith("GET "))!), 1);
    expect(await firstDifference("0.9.11", lost)).not.toBeNull();
    // 0.9.11's bytes judged as 0.8.7 (raw encoding) do not match
    expect(await firstDifference("0.8.7", cell)).not.toBeNull();
    // and the unedited recording matches
    expect(await firstDifference("0.9.11", cell)).toBeNull();
  });
});
