/** `rollback-bot schema [FILE]`: the JSON Schema editors use, generated from the zod schemas. */
import { manifestJsonSchema } from '../config/manifest-schema.js';
import { defaultRegistry } from '../executors/default-registry.js';
import type { CliIo } from './io.js';
import { writeGenerated } from './generated-file.js';

export function schemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(defaultRegistry()), null, 2)}\n`;
}

export const runSchema = (args: readonly string[], io: CliIo): Promise<number> =>
  writeGenerated('schema', schemaText, args, io);
