/**
 * matrices/releases.yaml: every libvirt release with the xend SXPR code × the default xend versions × the
 * default scenarios, replayed on the shipped recordings. It lists every release whose suite is shipped
 * (plus 4.6.0 … 5.5.0), keeps the default matrix's scenarios, and every release that resolves to a profile
 * replays with no error and every cell as expected; a release without recordings of its own replays a
 * same-profile release's recording and says so (in the cell's notes and at the top of explain). The
 * releases that resolve to no profile yet are reported by name (the test that every listed release
 * resolves is in test/conformance-all-releases.test.ts, with the other every-release checks). Support
 * groups are computed from the results: members of a group answer alike, different groups do not.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main, type CliIO } from "../harness/cli.js";
import { shippedTags } from "../harness/conformance/index.js";
import { compareVersions, resolveProfile } from "../harness/libvirt/index.js";
import { fromRoot, loadMatrix, loadResolvableMatrix } from "../harness/matrix/index.js";
import { renderReleasesBlock } from "../harness/report/readme.js";
import { conversationKeys, execute, groupSupport, supportAnswers, type CellResult, type SupportAnswer } from "../harness/run/index.js";
import { RecordedBackend } from "../harness/xend/index.js";
import { captureIO } from "./support/cli-io.js";

const ROOT = join(import.meta.dirname, "..");
const LATER = ["4.6.0", "4.7.0", "4.8.0", "4.9.0", "4.10.0", "5.0.0", "5.1.0", "5.2.0", "5.3.0", "5.4.0", "5.5.0"];

const io = () => captureIO(ROOT);

const { matrix, unresolved } = loadResolvableMatrix(fromRoot("matrices/releases.yaml"));
let results: CellResult[] | undefined;
async function replay(): Promise<CellResult[]> {
  results ??= (await execute({ cwd: ROOT, env: {}, loaded: matrix })).results;
  return results;
}

describe("matrices/releases.yaml", () => {
  it("lists every release whose suite is shipped, and 4.6.0 … 5.5.0, in release order, once each", () => {
    const listed = [...matrix.libvirt, ...unresolved.map((u) => u.libvirt)].sort(compareVersions);
    const want = [...shippedTags().map((t) => t.slice(1)), ...LATER].sort(compareVersions);
    expect(listed).toEqual(want);
    const text = readFileSync(join(ROOT, "matrices", "releases.yaml"), "utf8");
    const inFile = [...text.slice(text.indexOf("libvirt: ["), text.indexOf("]", text.indexOf("libvirt: ["))).matchAll(/"([\d.]+)"/g)].map((m) => m[1]);
    expect(inFile).toEqual(want);
  });

  it("has the default matrix's xend versions and scenarios", () => {
    const def = loadMatrix(fromRoot("matrices/default.yaml"));
    expect(matrix.xend).toEqual(def.xend);
    const strip = (s: (typeof def.scenarios)[number]) => ({ ...s, pos: undefined });
    expect(matrix.scenarios.map(strip)).toEqual(def.scenarios.map(strip));
  });

  it("leaves out only releases that resolve to no profile, each with resolveProfile's reason", () => {
    for (const u of unresolved) {
      expect(() => resolveProfile(u.libvirt)).toThrow(u.reason);
    }
    for (const l of matrix.libvirt) expect(() => resolveProfile(l)).not.toThrow();
    expect(matrix.libvirt.length).toBeGreaterThan(100);
  });

  it("every release that resolves replays on the recordings with no error, every cell as expected", async () => {
    const rs = await replay();
    expect(rs.length).toBe(matrix.libvirt.length * matrix.xend.length * matrix.scenarios.length);
    const bad = rs.filter((r) => r.verdict === "error" || (r.outcome !== "pass" && r.outcome !== "xfail")).map((r) => `${r.id}: ${r.verdict}/${r.outcome}: ${r.reason}`);
    expect(bad).toEqual([]);
  });

  it("a release without recordings of its own replays a release that sends the same requests, and says which", async () => {
    const rs = await replay();
    const recorded = new Set(["0.7.6", "0.8.7", "0.9.10", "0.9.11", "0.9.12", "1.3.1"]);
    const keys = conversationKeys(matrix.scenarios);
    for (const r of rs) {
      const note = r.observation.notes.find((n) => n.startsWith("replayed from the "));
      // a release that cannot talk to xend (1.2.1, 4.3.0 on) is rejected before any request
      if (resolveProfile(r.libvirt).unusable) {
        expect(note, r.id).toBeUndefined();
        continue;
      }
      if (existsSync(join(ROOT, "fixtures", "recordings", r.xend, r.libvirt, `${r.scenario}.yaml`))) {
        expect(note, r.id).toBeUndefined();
        continue;
      }
      expect(note, r.id).toBeDefined();
      const from = /^replayed from the (\S+) recording: libvirt \1 sends the same requests in this scenario \(fixtures\/recordings\/([^/]+)\/\1\/([^/]+)\.yaml; this cell has no recording of its own\)$/.exec(note!);
      expect(from, `${r.id}: ${note}`).not.toBeNull();
      expect(recorded.has(from![1]), r.id).toBe(true);
      expect([from![2], from![3]]).toEqual([r.xend, r.scenario]);
      expect(await keys(from![1], r.scenario, r.xend), r.id).toBe(await keys(r.libvirt, r.scenario, r.xend));
    }
    const o = io();
    const cell = rs.find((r) => !recorded.has(r.libvirt) && r.libvirt === "1.1.3")!;
    expect(await main(["explain", cell.id], o)).toBe(0);
    expect(o.stdout.split("\n")[3]).toMatch(/played by the recorded backend \(replayed from the \S+ recording: libvirt \S+ sends the same requests in this scenario: fixtures\/recordings\//);
  });

  it("a release that sends something else in a scenario gets no other release's recording: its cell is an error naming the record command", async () => {
    const keys = conversationKeys(matrix.scenarios);
    // 0.8.7 sends the define unescaped, 0.9.11 URI-escaped and with a different clock: different requests
    expect(await keys("0.8.7", "hvm-utc", "4.1.2")).not.toBe(await keys("0.9.11", "hvm-utc", "4.1.2"));
    const backend = new RecordedBackend({ dir: fromRoot("fixtures/recordings"), xendVersion: "4.1.2", profileOf: async (l) => (l === "0.6.5" ? "only-me" : "others") });
    await expect(backend.open("4.1.2/0.6.5/hvm-utc")).rejects.toThrow(/no recording at fixtures\/recordings\/4\.1\.2\/0\.6\.5\/hvm-utc\.yaml\. Record this cell with: xend-compat record/);
    const same = new RecordedBackend({ dir: fromRoot("fixtures/recordings"), xendVersion: "4.1.2", profileOf: async () => "everyone" });
    const session = await same.open("4.1.2/0.6.5/hvm-utc");
    expect(session.notes?.()[0]).toMatch(/^replayed from the 0\.8\.7 recording: libvirt 0\.8\.7 sends the same requests/);
  });

  it("groups releases that answer alike, computed from the results", async () => {
    const answers = supportAnswers(await replay());
    const groups = groupSupport(answers);
    const byLibvirt = new Map<string, SupportAnswer[]>();
    for (const a of answers) byLibvirt.set(a.libvirt, [...(byLibvirt.get(a.libvirt) ?? []), a]);
    const verdicts = (l: string) => JSON.stringify(byLibvirt.get(l)!.map((a) => [a.xend, a.status, Object.entries(a.scenarios).map(([v, ss]) => [v, [...ss].sort()])]));
    // a partition of the releases
    expect(groups.flatMap((g) => g.libvirts).sort(compareVersions)).toEqual([...matrix.libvirt].sort(compareVersions));
    for (const g of groups) for (const m of g.libvirts) expect(verdicts(m), m).toBe(verdicts(g.libvirts[0]));
    for (let i = 0; i < groups.length; i++) for (let j = i + 1; j < groups.length; j++) expect(verdicts(groups[i].libvirts[0])).not.toBe(verdicts(groups[j].libvirts[0]));
    // releases of one profile send and read the same, so they answer alike
    const profileOf = new Map(answers.map((a) => [a.libvirt, a.profileId]));
    for (const l of matrix.libvirt) {
      const g = groups.find((x) => x.libvirts.includes(l))!;
      for (const other of matrix.libvirt) if (profileOf.get(other) === profileOf.get(l)) expect(g.libvirts, `${l} ~ ${other}`).toContain(other);
    }
    const block = renderReleasesBlock({ answers, cells: answers.length, unresolved });
    for (const g of groups) expect(block).toContain(`| ${g.label} |`);
  });
});

describe("xend-compat support --group", () => {
  it("groups the default matrix's libvirt versions that answer alike (--json: groups with their members)", async () => {
    const o = io();
    expect(await main(["support", "--group", "--json"], o)).toBe(0);
    const j = JSON.parse(o.stdout) as { support: { libvirt: string; xend: string; status: string; scenarios: unknown }[]; groups: { libvirt: string[]; label: string; support: unknown[] }[] };
    expect(j.groups.flatMap((g) => g.libvirt).sort()).toEqual([...new Set(j.support.map((s) => s.libvirt))].sort());
    const of = (l: string) => JSON.stringify(j.support.filter((s) => s.libvirt === l).map((s) => [s.xend, s.status, s.scenarios]));
    for (const g of j.groups) for (const m of g.libvirt) expect(of(m)).toBe(of(g.libvirt[0]));
    const text = io();
    expect(await main(["support", "--group"], text)).toBe(0);
    for (const g of j.groups) expect(text.stdout).toContain(`libvirt ${g.label.replace(/ \((\d+ releases)\)$/, "")}`);
  });
  it("--matrix names the matrix; a missing one is bad input", async () => {
    const o = io();
    expect(await main(["support", "--matrix", "matrices/nope.yaml"], o)).toBe(2);
    expect(o.stderr).toContain("matrices/nope.yaml");
  });
});

describe("groupSupport", () => {
  const ans = (libvirt: string, status: SupportAnswer["status"], changed: string[] = []): SupportAnswer => ({
    libvirt,
    profileId: `p-${libvirt}`,
    xend: "4.1.2",
    status,
    counts: { preserved: 1, rejected: 0, changed: changed.length, error: 0, skipped: 0 },
    scenarios: { preserved: ["a"], rejected: [], changed, error: [], skipped: [] },
    why: [],
  });
  it("labels runs of consecutive members and keeps groups in first-member order", () => {
    const g = groupSupport([ans("1", "full"), ans("2", "full"), ans("3", "full"), ans("4", "unsafe", ["b"]), ans("5", "full"), ans("6", "unsafe", ["c"])]);
    expect(g.map((x) => [x.label, x.profiles])).toEqual([
      ["1 … 3, 5 (4 releases)", ["p-1", "p-2", "p-3", "p-5"]],
      ["4", ["p-4"]],
      ["6", ["p-6"]],
    ]);
  });
});
