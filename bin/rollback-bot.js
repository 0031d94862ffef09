#!/usr/bin/env node
// The `rollback-bot` command. In a development checkout (the TypeScript sources and tsx are present)
// it runs the sources, so it never answers with a stale build; an installed package or the Docker
// image has no sources and runs the compiled dist/.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli/main.js', import.meta.url);

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch {
    return undefined;
  }
}

const register = existsSync(sources) ? await tsxRegister() : undefined;
if (register) {
  register();
  await import(sources.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write('rollback-bot: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
