/**
 * What `schema` and `iam-policy` share: a text generated from the code, printed, or written to FILE
 * (the committed copy a test compares with the code).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { USAGE, type CliIo } from './io.js';

export async function writeGenerated(
  command: string,
  text: () => string,
  args: readonly string[],
  io: CliIo,
): Promise<number> {
  if (args.length > 1 || args.some((arg) => arg.startsWith('-'))) {
    io.err(`rollback-bot ${command}: unexpected ${args.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const [file] = args;
  if (file === undefined) {
    io.out(text());
    return 0;
  }
  const target = resolve(io.cwd, file);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, text());
  io.err(`wrote ${file}\n`);
  return 0;
}
