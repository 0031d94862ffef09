/** `rollback-bot schema [FILE]`: the JSON Schema editors use, generated from the zod schemas. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { manifestJsonSchema } from '../config/manifest-schema.js';
import { defaultRegistry } from '../executors/default-registry.js';
import { USAGE, type CliIo } from './io.js';

export function schemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(defaultRegistry()), null, 2)}\n`;
}

export async function runSchema(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length > 1 || args.some((arg) => arg.startsWith('-'))) {
    io.err(`rollback-bot schema: unexpected ${args.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const [file] = args;
  if (file === undefined) {
    io.out(schemaText());
    return 0;
  }
  const target = resolve(io.cwd, file);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, schemaText());
  io.err(`wrote ${file}\n`);
  return 0;
}
