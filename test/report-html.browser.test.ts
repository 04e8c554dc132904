/**
 * The HTML support matrix as a person sees it, in a real headless Chromium (Debian's chromium package,
 * installed by ci/browser.sh; nothing is installed or downloaded here). Skipped, saying so, when
 * /usr/bin/chromium is missing.
 *
 * Two pages are checked. The real one: a real run of the default matrix (recorded backend, through
 * the CLI's `run --reporter html --out F`), when fixtures/recordings/ holds recordings (skipped,
 * saying so, while it holds none). The fake one, always: a run over an in-test FAKE xend
 * (test/report-html.fake-xend.ts), for the page mechanics only (every support status, HTML-looking
 * text in xend's answers); its test names and a banner on the page say so.
 *
 * Every request the page makes is routed and recorded; any request other than the page itself fails
 * the test (a canary on a blank page proves the guard sees requests). Screenshots go to
 * test-artifacts/; with XEND_COMPAT_UPDATE_SCREENSHOT=1 (and not under CI) the real page's (the fake's only
 * while there are no recordings) is copied to docs/support-matrix.png, which the README shows.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type CliIO } from "../harness/cli.js";
import { DEFAULT_MATRIX, expandCells, fromRoot, loadMatrix, projectRoot, RECORDINGS_DIR } from "../harness/matrix/index.js";
import { makeReport, type RunReport } from "../harness/report/index.js";
import { renderHtml, storyText, type ScenarioInfo } from "../harness/report/html.js";
import { runCells, type CellResult } from "../harness/run/index.js";
import { redactDeep } from "../harness/xend/redact.js";
import { FakeXend, HOSTILE } from "./report-html.fake-xend.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const ARTIFACTS = fromRoot("test-artifacts");
const DOCS_PNG = fromRoot("docs/support-matrix.png");

function countRecordings(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) n += countRecordings(p);
    else if (e.endsWith(".yaml")) n++;
  }
  return n;
}
const recordings = countRecordings(fromRoot(RECORDINGS_DIR));

/** Scenarios of the default matrix the fake run uses: together they give every support status. */
const FAKE_SCENARIOS = ["pv-utc", "hvm-utc", "hvm-localtime", "pv-utc-start", "pv-args-special"];
const FAKE_BANNER = "DEMO DATA: these results come from an in-test fake xend, not from a real xend; they only show how the page works.";

type Kind = "real" | "fake";
const modeName: Record<Kind, string> = {
  real: recordings > 0 ? `from a real run of the default matrix (recorded backend, ${recordings} recordings)` : "from a real run of the default matrix (SKIPPED: fixtures/recordings/ holds no recordings)",
  fake: "mechanics only, over in-test FAKE backend results (every status, hostile text)",
};
const skipWhy = haveChromium ? "" : ` (SKIPPED: no ${CHROMIUM}; run ci/browser.sh to install Debian's chromium)`;
if (!haveChromium) console.log(`[report-html.browser] skipped: no ${CHROMIUM} (ci/browser.sh installs Debian's chromium package)`);

function captureIO(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { out: (s) => stdout.push(s), err: (s) => stderr.push(s), isTTY: false, env: { ...process.env, NO_COLOR: "1" }, cwd: projectRoot(), stdout, stderr };
}

interface PageUnderTest {
  html: string;
  file: string;
  report: RunReport;
  scenarios: Map<string, ScenarioInfo>;
}

async function makePage(kind: Kind): Promise<PageUnderTest> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `support-matrix-${kind}.html`);
  const matrix = loadMatrix(fromRoot(DEFAULT_MATRIX));
  const scenarios = new Map(matrix.scenarios.map((s) => [s.id, { description: s.description, domainFile: s.domainFile, steps: s.steps.map((st) => (st.kind === "guest-set-rtc" ? `guest-set-rtc ${st.delta}` : st.kind)) }]));
  if (kind === "real") {
    // The page exactly as users get it: the CLI's run with --reporter html --out, and its JSON twin
    // for what the page should show.
    const io = captureIO();
    const code = await main(["run", "--reporter", "html", "--out", file], io);
    expect(code, io.stderr.join("\n")).toBeLessThan(2);
    const jsonFile = path.join(ARTIFACTS, "support-matrix-real.json");
    const io2 = captureIO();
    await main(["run", "--reporter", "json", "--out", jsonFile], io2);
    const j = JSON.parse(readFileSync(jsonFile, "utf8"));
    const results: CellResult[] = j.cells.map((c: Record<string, unknown>) => ({ ...c, profileId: c.profile }));
    return { html: readFileSync(file, "utf8"), file, report: makeReport(j.matrix, j.backend, results), scenarios };
  }
  const cells = expandCells(matrix).filter((c) => FAKE_SCENARIOS.includes(c.scenario.id));
  const results = await runCells(cells, { backendFor: async (x) => new FakeXend(x) });
  const report = redactDeep(makeReport({ name: matrix.name, file: DEFAULT_MATRIX }, "sandbox", results));
  const html = renderHtml(report, { banner: FAKE_BANNER, scenarios });
  writeFileSync(file, html);
  return { html, file, report, scenarios };
}

function suite(kind: Kind): void {
  const real = kind === "real";
  // The README's picture comes from the real run; from the fake one only while there is none.
  // The committed docs/support-matrix.png is only refreshed on request, so a test run never changes tracked files.
  const toDocs = (real || recordings === 0) && process.env.XEND_COMPAT_UPDATE_SCREENSHOT === "1" && !process.env.CI;
  describe.skipIf(!haveChromium || (real && recordings === 0))(`HTML support matrix in headless Chromium, ${modeName[kind]}${skipWhy}`, () => {
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let put: PageUnderTest;
    let pageUrl: string;
    const leaked = new Set<string>();

    beforeAll(async () => {
      put = await makePage(kind);
      pageUrl = pathToFileURL(put.file).href;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
      context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
      // Route everything: only the page itself may load; anything else is recorded and aborted.
      await context.route("**/*", (route) => {
        const url = route.request().url();
        if (url === pageUrl) return route.continue();
        leaked.add(url);
        return route.abort();
      });
      context.on("request", (req) => {
        if (req.url() !== pageUrl) leaked.add(req.url());
      });
      page = await context.newPage();
      await page.goto(pageUrl);
    });

    afterAll(async () => {
      await browser?.close();
    });

    it("is one self-contained file: no external reference, a CSP that forbids loading anything", () => {
      expect(put.html).not.toMatch(/<link\b|<script[^>]+src=|<img\b|@import|url\(/i);
      expect(put.html).toMatch(/Content-Security-Policy" content="default-src &#39;none&#39;/);
      if (!real) expect(put.html).toContain("DEMO DATA");
    });

    it("shows the libvirt × xend grid with each cell's support status as a word (and colour)", async () => {
      const { report } = put;
      expect(report.support.length).toBeGreaterThan(0);
      const headers = await page.locator("#grid thead th").allInnerTexts();
      const xends = [...new Set(report.results.map((r) => r.xend))];
      expect(headers.slice(1)).toEqual(xends.map((x) => `xend ${x}`));
      const colours = new Map<string, string>();
      for (const a of report.support) {
        const td = page.locator(`#grid td[data-libvirt="${a.libvirt}"][data-xend="${a.xend}"]`);
        expect(await td.isVisible()).toBe(true);
        expect(await td.getAttribute("data-status")).toBe(a.status);
        const text = await td.innerText();
        expect(text.toLowerCase()).toContain(a.status);
        for (const [v, n] of Object.entries(a.counts)) if (n > 0) expect(text).toContain(`${n} ${v}`);
        colours.set(a.status, await td.evaluate((el) => getComputedStyle(el).backgroundColor));
      }
      // Different statuses look different.
      expect(new Set(colours.values()).size).toBe(colours.size);
      if (!real) expect([...colours.keys()].sort()).toEqual(["full", "partial", "unsafe", "untested"]);
      // The legend names every status with its meaning.
      const legend = await page.locator(".legend").innerText();
      for (const s of ["full", "partial", "unsafe", "untested"]) expect(legend).toContain(s);
      // Nothing is open yet.
      expect(await page.locator(".panel:visible").count()).toBe(0);
    });

    it("a click on a grid cell shows its scenarios with verdict and outcome; Enter on another switches", async () => {
      const { report } = put;
      const pick = report.support.find((a) => a.status === "unsafe") ?? report.support.find((a) => a.status !== "untested") ?? report.support[0];
      const btn = page.locator(`#grid td[data-libvirt="${pick.libvirt}"][data-xend="${pick.xend}"] button`);
      await btn.click();
      expect(await btn.getAttribute("aria-expanded")).toBe("true");
      const panel = page.locator(`.panel[data-libvirt="${pick.libvirt}"][data-xend="${pick.xend}"]`);
      expect(await panel.isVisible()).toBe(true);
      expect(await page.locator(".panel:visible").count()).toBe(1);
      const mine = report.results.filter((r) => r.libvirt === pick.libvirt && r.xend === pick.xend);
      const rows = panel.locator("tbody tr[data-cell]");
      expect(await rows.count()).toBe(mine.length);
      for (const r of mine) {
        const row = panel.locator(`tr[data-cell="${r.id}"]`);
        const cells = await row.locator("td").allInnerTexts();
        expect(cells[0]).toBe(r.scenario);
        expect(cells[1]).toBe(r.verdict);
        expect(cells[2]).toBe(r.outcome);
        expect(cells[3]).toContain(r.reason.slice(0, 60));
      }
      // Keyboard: focus another cell's button and press Enter.
      const other = report.support.find((a) => a !== pick)!;
      const otherBtn = page.locator(`#grid td[data-libvirt="${other.libvirt}"][data-xend="${other.xend}"] button`);
      await otherBtn.focus();
      await page.keyboard.press("Enter");
      expect(await page.locator(`.panel[data-libvirt="${other.libvirt}"][data-xend="${other.xend}"]`).isVisible()).toBe(true);
      expect(await panel.isVisible()).toBe(false);
      expect(await btn.getAttribute("aria-expanded")).toBe("false");
      // Back to the first one for the next test.
      await btn.click();
      expect(await panel.isVisible()).toBe(true);
    });

    it("a click on a scenario shows its explain story: XML in, SXPR sent, exchanges, XML out, verdict and why", async () => {
      const { report } = put;
      const open = page.locator(".panel:visible");
      const first = open.locator("tr[data-cell]").first();
      const id = (await first.getAttribute("data-cell"))!;
      const r = report.results.find((x) => x.id === id)!;
      const sbtn = first.locator("button.scenbtn");
      const storyId = (await sbtn.getAttribute("aria-controls"))!;
      const story = page.locator(`#${storyId}`);
      expect(await story.isVisible()).toBe(false);
      await sbtn.click();
      expect(await story.isVisible()).toBe(true);
      const shown = await story.locator("pre").textContent();
      // Exactly what `xend-compat explain` prints for the cell.
      expect(shown).toBe(storyText(r, put.scenarios.get(r.scenario)!));
      for (const part of ["1. Domain XML in", "3. SXPR libvirt built", "4. Exchanges with xend", "6. XML libvirt shows afterwards", `verdict: ${r.verdict}`, `outcome: ${r.outcome}`]) expect(shown).toContain(part);
      // The domain XML is shown as text (escaped), not parsed into the page.
      expect(shown).toContain("<domain");
      expect(await page.locator("domain, clock").count()).toBe(0);
      await page.screenshot({ path: path.join(ARTIFACTS, `support-matrix-${kind}-story.png`), fullPage: false });
    });

    it("escapes what results hold: HTML-looking xend bodies and reasons stay text", async () => {
      expect(await page.locator("script").count()).toBe(1);
      expect(await page.locator("img").count()).toBe(0);
      expect(await page.title()).toContain("xend-compat support matrix");
      if (!real) {
        // The fake's xend 3.2 refuses hvm-utc with an HTML-looking body; the page shows it literally.
        const a = put.report.support.find((s) => s.xend === "3.2" && s.scenarios.rejected.includes("hvm-utc"))!;
        const btn = page.locator(`#grid td[data-libvirt="${a.libvirt}"][data-xend="${a.xend}"] button`);
        if ((await btn.getAttribute("aria-expanded")) !== "true") await btn.click();
        const text = await page.locator(`.panel[data-libvirt="${a.libvirt}"][data-xend="${a.xend}"]`).innerText();
        expect(text).toContain("<img src=x onerror=");
        expect(text).toContain("<script>alert(");
        expect(HOSTILE).toContain("<script>");
      }
    });

    it(`takes a screenshot (test-artifacts/support-matrix-${kind}.png${toDocs ? ", copied to docs/support-matrix.png for the README" : ""})`, async () => {
      // The view a reader should get: the grid with one grid cell opened and one scenario's story.
      const pick = put.report.support.find((a) => a.status === "unsafe") ?? put.report.support[0];
      const btn = page.locator(`#grid td[data-libvirt="${pick.libvirt}"][data-xend="${pick.xend}"] button`);
      if ((await btn.getAttribute("aria-expanded")) !== "true") await btn.click();
      // Close the stories earlier tests opened, then open the first silently changed scenario.
      for (const open of await page.locator('button.scenbtn[aria-expanded="true"]').all()) await open.click();
      const panel = page.locator(".panel:visible");
      const mine = put.report.results.filter((r) => r.libvirt === pick.libvirt && r.xend === pick.xend);
      const show = mine.find((r) => r.verdict === "changed") ?? mine[0];
      await panel.locator(`tr[data-cell="${show.id}"] button.scenbtn`).click();
      expect(await page.locator(".story:visible").count()).toBe(1);
      await page.setViewportSize({ width: 1280, height: 1400 });
      await page.evaluate(() => window.scrollTo(0, 0));
      const shot = path.join(ARTIFACTS, `support-matrix-${kind}.png`);
      await page.screenshot({ path: shot, fullPage: false });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      if (toDocs) {
        mkdirSync(path.dirname(DOCS_PNG), { recursive: true });
        copyFileSync(shot, DOCS_PNG);
      }
    });

    it("no request leaves the page (and the guard does see requests: canary on a blank page)", async () => {
      expect([...leaked]).toEqual([]);
      const canary = await context.newPage();
      await canary.goto("about:blank");
      await canary.evaluate(() => fetch("http://127.0.0.1:9/canary").catch(() => undefined));
      await canary.close();
      expect([...leaked]).toEqual(["http://127.0.0.1:9/canary"]);
    });
  });
}

suite("real");
suite("fake");
