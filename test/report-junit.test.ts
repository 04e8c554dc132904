import { describe, expect, it } from "vitest";
import { DOMParser, type XmlElement } from "../harness/xml/index.js";

/** Every element named `name` under `el`, in document order. */
function all(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.childNodes) if (c.nodeType === 1) {
    const e = c as XmlElement;
    if (e.tagName === name) out.push(e);
    out.push(...all(e, name));
  }
  return out;
}
import { renderJunit } from "../harness/report/index.js";
import { sampleReport } from "./fakes/report-fixture.js";

describe("JUnit report", () => {
  it("is well-formed XML with one suite per xend/libvirt and the expectation reasons kept", async () => {
    const xml = renderJunit(await sampleReport());
    const errors: string[] = [];
    const doc = new DOMParser({ onError: (_l: string, m: string) => errors.push(m) }).parseFromString(xml, "text/xml");
    expect(errors).toEqual([]);
    const root = doc.documentElement!;
    expect(root.tagName).toBe("testsuites");
    expect(root.getAttribute("tests")).toBe("12");
    expect(all(root, "testsuite").length).toBe(4);
    expect(all(root, "testcase").length).toBe(12);
    // the reason with <, & and quotes survives escaping
    expect(xml).toContain('name="expectation" value="rejected: variable &lt;is&gt; unsupported &amp; &quot;quoted&quot;"');
    expect(xml).toContain('name="fixedBy" value="11ec6bd89"');
    expect(xml).toContain('name="report" value="facts/xend.md"');
    // 3.2 drops localtime: the lt cells changed without expectation → failures; hvm-utc on 3.2/0.9.11 was
    // expected to change but did not → xpass, also a failure (the expectation is out of date)
    const failures = all(root, "testcase")
      .filter((t) => all(t, "failure").length > 0)
      .map((t) => t.getAttribute("name") + "@" + (t.getAttribute("classname") ?? ""));
    expect(failures.sort()).toEqual([
      "hvm-localtime-guest-sets-rtc-restart@xend-3_2.libvirt-0_8_7+rfc-localtime",
      "hvm-localtime-guest-sets-rtc-restart@xend-3_2.libvirt-0_9_11",
      "hvm-utc@xend-3_2.libvirt-0_9_11",
    ]);
    expect(xml).toContain('<failure type="xpass"');
    // times: every testcase, suite and the whole run carry seconds with three decimals
    for (const tag of ["testsuites", "testsuite", "testcase"]) {
      const opens = [...xml.matchAll(new RegExp(`<${tag}\\s[^>]*>`, "g"))].map((m) => m[0]);
      expect(opens.length, tag).toBeGreaterThan(0);
      for (const o of opens) expect(o, tag).toMatch(/ time="\d+\.\d{3}"/);
    }
    expect(root.getAttribute("failures")).toBe("3");
    // known problems showing as expected are not failures but keep their reason
    expect(xml).toMatch(/name="hvm-var" time="\d+\.\d{3}">\n      <properties>[\s\S]*?name="outcome" value="xfail"/);
  });
});
