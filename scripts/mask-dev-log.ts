/**
 * `npm start` pipes `wrangler dev` through this. Wrangler prints its own access line
 * (`[wrangler:info] POST /api/v1/waitlist-offers/<token>/accept 201 OK`); its only switch is the
 * log level, which would hide our JSON request logs too. So every API path it prints is masked
 * here with the same rule as our logs (src/domain/redaction.ts).
 */
import { redactPath } from "../src/domain/redaction";

// Node built-ins through process.getBuiltinModule: the project's types are the Workers ones, without @types/node.
interface NodeReadline {
  createInterface(options: { input: unknown; crlfDelay: number }): { on(event: "line", listener: (line: string) => void): void };
}
interface NodeProcess {
  stdin: unknown;
  stdout: { write(text: string): boolean };
}
const readline = process.getBuiltinModule("node:readline") as NodeReadline;
const node = process as unknown as NodeProcess;

const API_PATH = /\/api\/[^\s"'`\x1b]*/g;

readline.createInterface({ input: node.stdin, crlfDelay: Infinity }).on("line", (line) => {
  node.stdout.write(`${line.replace(API_PATH, (path) => redactPath(path))}\n`);
});
