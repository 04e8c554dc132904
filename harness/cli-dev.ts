// Development entry: run the CLI from the TypeScript sources without building (`npx tsx harness/cli-dev.ts ...`).
import { main } from "./cli.js";

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
