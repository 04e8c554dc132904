/**
 * Replay matches what xend would read: the request's Content-Type (xend parses a form body only when it
 * is application/x-www-form-urlencoded) and its Content-Length (xend reads exactly that many bytes) are
 * part of the match, not only method, path and body.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { isHarnessError } from "../harness/errors.js";
import { loadRecording, RecordedBackend, recordingPath, type HttpRequest } from "../harness/xend/index.js";

const dir = path.join(__dirname, "..", "fixtures", "recordings");
const cell = "4.1.2/0.9.11/pv-utc";
const have = fs.existsSync(recordingPath(dir, cell));

/** Replay the recording's node GET, then send its define request changed by `edit`; the define's error message or "ok". */
async function defineWith(edit: (r: HttpRequest) => HttpRequest): Promise<string> {
  const rec = await loadRecording(recordingPath(dir, cell));
  const xs = rec.exchanges.filter((x) => x.channel === "xend");
  const node = xs[0].request;
  const define = xs.find((x) => x.channel === "xend" && x.request.method === "POST")!.request;
  const s = await new RecordedBackend({ dir, xendVersion: "4.1.2" }).open(cell);
  await s.send({ ...node, headers: [...node.headers] }, "0-node");
  try {
    await s.send(edit({ ...define, headers: [...define.headers] }), "1-define");
    return "ok";
  } catch (e) {
    if (!isHarnessError(e, "backend.unmatched")) throw e;
    return e.message;
  }
}

const setHeader = (r: HttpRequest, name: string, value: string | null): HttpRequest => {
  const headers = r.headers.filter(([k]) => k.toLowerCase() !== name.toLowerCase());
  if (value !== null) headers.push([name, value]);
  return { ...r, headers };
};

describe.skipIf(!have)(`replay compares Content-Type and Content-Length (${have ? cell : "skipped: no recording " + cell})`, () => {
  it("the recorded request itself matches (a parameter or case in the media type does not matter)", async () => {
    expect(await defineWith((r) => r)).toBe("ok");
    expect(await defineWith((r) => setHeader(r, "content-type", "Application/X-WWW-Form-Urlencoded; charset=utf-8"))).toBe("ok");
  });

  it("another Content-Type is unmatched, naming both", async () => {
    const why = await defineWith((r) => setHeader(r, "Content-Type", "text/plain"));
    expect(why).toMatch(/the headers of POST \/xend\/domain\/ at step '1-define' do not match the recording \(exchange 2 of \d+, recorded at step '1-define'\): Content-Type 'text\/plain', recorded 'application\/x-www-form-urlencoded'/);
    expect(await defineWith((r) => setHeader(r, "Content-Type", null))).toMatch(/Content-Type missing, recorded 'application\/x-www-form-urlencoded'/);
  });

  it("a Content-Length other than the body's UTF-8 byte length is unmatched", async () => {
    const rec = await loadRecording(recordingPath(dir, cell));
    const post = rec.exchanges.flatMap((x) => (x.channel === "xend" && x.request.method === "POST" ? [x.request] : []))[0];
    const body = post.body ?? "";
    const bytes = Buffer.byteLength(body, "utf8");
    expect(await defineWith((r) => setHeader(r, "Content-Length", String(bytes - 1)))).toMatch(new RegExp(`Content-Length '${bytes - 1}' but the body is ${bytes} bytes in UTF-8`));
    expect(await defineWith((r) => setHeader(r, "Content-Length", "12x"))).toMatch(/Content-Length '12x' but the body is/);
    expect(await defineWith((r) => setHeader(r, "Content-Length", null))).toMatch(new RegExp(`no Content-Length for a body of ${bytes} bytes`));
    // a body with a non-ASCII character: its length in characters is not its length in bytes
    expect(await defineWith((r) => setHeader({ ...r, body: r.body + "é" }, "Content-Length", String(r.body!.length + 1)))).toMatch(/Content-Length '\d+' but the body is \d+ bytes in UTF-8/);
  });
});
