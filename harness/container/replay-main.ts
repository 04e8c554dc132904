/**
 * Entry point of the replay image: `node replay-main.js --xend 4.1.2 [--recordings DIR] [--host H]
 * [--port 8000] [--control-port 8001]`. Prints `XEND-COMPAT-READY {json}` once both ports listen,
 * and stops on SIGTERM/SIGINT (the container's stop).
 */
import { parseArgs } from "node:util";
import { startReplayServer } from "./replay-server.js";
import { CONTROL_PORT, XEND_PORT } from "./protocol.js";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      xend: { type: "string" },
      recordings: { type: "string", default: "/app/fixtures/recordings" },
      host: { type: "string", default: "0.0.0.0" },
      port: { type: "string", default: String(XEND_PORT) },
      "control-port": { type: "string", default: String(CONTROL_PORT) },
      "shown-dir": { type: "string" },
    },
  });
  if (!values.xend) {
    process.stderr.write("replay-main: --xend VERSION is required\n");
    process.exit(2);
  }
  const server = await startReplayServer({
    recordingsDir: values.recordings!,
    xendVersion: values.xend,
    host: values.host!,
    port: Number(values.port),
    controlPort: Number(values["control-port"]),
    ...(values["shown-dir"] ? { shownDir: values["shown-dir"] } : {}),
    log: (l) => process.stdout.write(l + "\n"),
  });
  process.stdout.write(
    `XEND-COMPAT-READY ${JSON.stringify({ kind: "replay", xendVersion: values.xend, xendPort: server.xendPort, controlPort: server.controlPort, recordings: server.recordings })}\n`,
  );
  const stop = () => {
    server.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`replay-main: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
