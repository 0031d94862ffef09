/**
 * Entry point of the `rollback-bot` command: `validate`, `init`, `schema`, `iam-policy`, `reference`,
 * `demo [--serve]`, `audit verify [ID]`, `help`.
 */
import { createInterface } from 'node:readline/promises';
import { runAudit } from './audit.js';
import { runDemo } from './demo.js';
import { runInit } from './init.js';
import { USAGE, type CliIo } from './io.js';
import { runIamPolicy } from './iam-policy.js';
import { runReference } from './reference.js';
import { runSchema } from './schema.js';
import { runValidate } from './validate.js';

export async function runCli(io: CliIo): Promise<number> {
  const [command, ...args] = io.argv;
  switch (command) {
    case 'validate':
      return runValidate(args, io);
    case 'init':
      return runInit(args, io);
    case 'schema':
      return runSchema(args, io);
    case 'iam-policy':
      return runIamPolicy(args, io);
    case 'reference':
      return runReference(args, io);
    case 'demo':
      return runDemo(args, io);
    case 'audit':
      return runAudit(args, io);
    case 'help':
    case '--help':
    case '-h':
      io.out(USAGE);
      return 0;
    default:
      io.err(
        `${command === undefined ? 'rollback-bot: no command given' : `rollback-bot: unknown command "${command}"`}\n\n${USAGE}`,
      );
      return 2;
  }
}

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  ...(process.stdin.isTTY ? { ask } : {}),
});

/** One question at the terminal; the prompt goes to stderr so stdout stays the command's output. */
async function ask(question: string): Promise<string | undefined> {
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await terminal.question(question);
  } catch {
    // Ctrl-D or a closed terminal: no answer.
    return undefined;
  } finally {
    terminal.close();
  }
}
