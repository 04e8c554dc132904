/**
 * The whole story of one cell as text: XML in, SXPR sent, each exchange, observation, XML out, verdict and
 * why. Used by `xend-compat explain` and by the HTML report's scenario stories.
 */
import { resolveProfile } from "../libvirt/index.js";
import { asExpected, signed, type CellResult, type Exchange } from "../run/index.js";
import { printSxpr, readSxpr } from "../sxp/index.js";

function indent(s: string, pad = "    "): string {
  return s
    .replace(/\n$/, "")
    .split("\n")
    .map((l) => pad + l)
    .join("\n");
}

function pretty(sxpr: string): string {
  try {
    return printSxpr(readSxpr(sxpr, { dialect: "libvirt", strict: false }), { style: "libvirt", pretty: true });
  } catch {
    return sxpr;
  }
}

function decodeBody(body: string): string {
  try {
    return decodeURIComponent(body.replace(/\+/g, " "));
  } catch {
    return body;
  }
}

function exchangeText(e: Exchange): string {
  if (e.kind === "control") {
    const what = e.control.kind === "guest-set-rtc" ? `guest-set-rtc ${e.control.delta > 0 ? "+" : ""}${e.control.delta}s` : e.control.kind;
    const reply = e.error
      ? `FAILED: ${e.error}`
      : e.reply
        ? `${e.reply.ok ? "ok" : "not ok"}${e.reply.detail ? `: ${e.reply.detail}` : ""}${e.reply.clock ? ` clock ${JSON.stringify(e.reply.clock)}` : ""}`
        : "(no reply)";
    return `[${e.step}] control ${what} on ${e.control.domain} → ${reply}`;
  }
  const lines = [`[${e.step}] ${e.request.method} ${e.request.path}`];
  if (e.request.body !== undefined) {
    lines.push(`    body as sent (${Buffer.byteLength(e.request.body)} bytes): ${e.request.body.length > 240 ? e.request.body.slice(0, 240) + "…" : e.request.body}`);
    if (e.request.body.includes("%")) lines.push(`    form-decoded as xend reads it: ${(() => { const d = decodeBody(e.request.body); return d.length > 240 ? d.slice(0, 240) + "…" : d; })()}`);
  }
  if (e.error) lines.push(`    → FAILED: ${e.error}`);
  else if (e.response) {
    lines.push(`    → ${e.response.status} ${e.response.reason}${e.response.body ? ` (${Buffer.byteLength(e.response.body)} bytes)` : ", empty body"}`);
    if (e.response.body && e.request.method === "GET" && e.request.path.startsWith("/xend/domain/")) lines.push(indent(pretty(e.response.body), "      "));
    else if (e.response.body && e.response.body.length < 400) lines.push(`      ${e.response.body.trim()}`);
  }
  return lines.join("\n");
}

export function renderExplain(r: CellResult, scenario: { description: string; domainFile: string; steps: string[] }): string {
  const o = r.observation;
  const p = resolveProfile(r.libvirt);
  const out: string[] = [];
  out.push(`cell ${r.id}`);
  out.push(`  scenario ${r.scenario} (${r.guest.toUpperCase()}, ${scenario.domainFile}): ${scenario.description}`);
  out.push(`  libvirt ${r.libvirt} → profile ${p.id}: ${p.summary}`);
  // a replay of another release's recording says so at the top, not only among the notes
  const borrowed = o.notes.find((n) => n.startsWith("replayed from the "));
  out.push(`  xend ${r.xend}, played by the ${r.backend ?? "(no)"} backend${borrowed ? ` (${borrowed.replace(/ \(([^;]*); this cell has no recording of its own\)$/, ": $1; this cell has no recording of its own")})` : ""}`);
  out.push(`  steps: ${scenario.steps.join(", ")}`);
  out.push(`  intent: ${o.intent.description}${o.intent.xml ? ` (${o.intent.xml})` : ""}`);
  out.push("");
  out.push("1. Domain XML in (name and uuid rewritten for this cell):");
  out.push(indent(o.xmlIn));
  out.push(`   clock before: ${o.clockBefore.xml ?? "none"} = ${o.clockBefore.description}`);
  out.push("");
  out.push(`2. libvirt learns xend_config_format: ${o.xendConfigFormat ?? "unknown"}`);
  out.push("");
  out.push("3. SXPR libvirt built:");
  out.push(o.sxprSent === null ? `    none: ${o.libvirt.error ?? "libvirt did not get that far"}` : indent(pretty(o.sxprSent)));
  if (o.libvirt.warnings.length) out.push(`   libvirt warnings: ${o.libvirt.warnings.join(" | ")}`);
  out.push("");
  out.push("4. Exchanges with xend:");
  if (!o.exchanges.length) out.push("    none");
  for (const e of o.exchanges) out.push(indent(exchangeText(e)));
  out.push("");
  out.push("5. What xend returned:");
  out.push(`    localtime: ${o.localtimePaths.length ? o.localtimePaths.map((x) => `${x.path} = ${x.value}`).join(", ") : "nowhere"}`);
  out.push(`    rtc_timeoffset: ${o.rtcTimeoffsetPaths.length ? o.rtcTimeoffsetPaths.map((x) => `${x.path} = ${x.value}`).join(", ") : "nowhere"}`);
  if (o.xendError) out.push(`    xend refused: ${o.xendError}`);
  out.push("");
  out.push("6. XML libvirt shows afterwards:");
  out.push(o.xmlOut === null ? `    none${o.libvirt.error && o.sxprSent !== null ? `: ${o.libvirt.error}` : ""}` : indent(o.xmlOut));
  out.push(`   clock after: ${o.clockAfter ? `${o.clockAfter.xml ?? "none"} = ${o.clockAfter.description}` : "(no read-back)"}`);
  if (o.cmdlineBefore !== null) out.push(`   kernel command line: sent ${JSON.stringify(o.cmdlineBefore)}, shown ${o.cmdlineAfter === null ? "none" : JSON.stringify(o.cmdlineAfter)}`);
  out.push("");
  out.push("7. The clock the guest really got:");
  if (!o.effective.length) out.push("    not known (no start, or the backend cannot tell)");
  for (const e of o.effective) out.push(`    at ${e.step}: ${signed(e.utcOffset)} (${e.rule}); intended ${e.intendedOffset === null ? "unknown" : signed(e.intendedOffset)}; host ${signed(e.raw.hostUtcOffset)} (TZ ${e.raw.tz})`);
  out.push("");
  out.push("8. Checks:");
  if (!o.checks.length) out.push("    none judged (the cell stopped before)");
  for (const c of o.checks) out.push(`    ${c.check}: ${c.ok === null ? "undecided" : c.ok ? "holds" : "BROKEN"}: ${c.detail}`);
  for (const n of o.notes) out.push(`    note: ${n}`);
  out.push("");
  out.push(`verdict: ${r.verdict}: ${r.reason}`);
  if (r.expectation) out.push(`expectation (${r.expectation.cells}): ${r.expectation.verdict}: ${r.expectation.reason}${r.expectation.fixedBy ? `; fixed by ${r.expectation.fixedBy}` : ""}${r.expectation.report ? `; see ${r.expectation.report}` : ""}`);
  if (r.golden) out.push(`golden ${r.golden.file}: ${r.golden.status}${r.golden.detail ? ` (${r.golden.detail})` : ""}`);
  if (r.golden?.diff) out.push(indent(r.golden.diff));
  out.push(`outcome: ${r.outcome}: ${r.outcomeReason}`);
  return out.join("\n");
}
