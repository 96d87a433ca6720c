// Reads DIR/.env with the real JavaScript readers, for tests/export_readers.rs:
//   node read-env.mjs CACHE DIR...
// CACHE is the folder tests/install-readers.sh installed them into. Prints one JSON object:
// {DIR: {"dotenv": {...}, "next": {...}, "vite": {...}}, ...}. Run it with an environment
// that holds none of the file's names: Next.js and Vite take a name already set from there.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [cache, ...dirs] = process.argv.slice(2);
const require = createRequire(join(cache, "package.json"));
const dotenv = require("dotenv");
const nextEnv = require("@next/env");
const { loadEnv } = await import(pathToFileURL(require.resolve("vite")).href);
const quiet = { info() {}, error(...args) { console.error(...args); } };

const result = {};
for (const dir of dirs) {
  const text = readFileSync(join(dir, ".env"));
  const names = Object.keys(dotenv.parse(text));
  const pick = (env) => Object.fromEntries(names.filter((n) => n in env).map((n) => [n, env[n]]));
  // Vite: every name (prefix ''), as a dev server in mode "development" loads them.
  const vite = pick(loadEnv("development", dir, ""));
  // Next.js: `next dev` loads .env files through loadEnvConfig(dir, dev = true).
  const next = pick(nextEnv.loadEnvConfig(dir, true, quiet, true).parsedEnv);
  nextEnv.resetEnv();
  result[dir] = { dotenv: dotenv.parse(text), next, vite };
}
process.stdout.write(JSON.stringify(result));
