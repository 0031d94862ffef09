#!/usr/bin/env node
// The `rollback-bot` command. Runs the compiled CLI from dist/; in a development checkout that has
// not been built yet it runs the TypeScript sources through tsx (a devDependency) instead.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
