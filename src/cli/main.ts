/**
 * Entry point of the `rollback-bot` command: `validate`, `init`, `schema`, `iam-policy`, `reference`,
 * `demo [--serve]`, `audit verify [ID]`, `help`.
 */
import { createInterface } from 'node:readline/promises';
import { USAGE, type CliIo } from './io.js';

/**
 * Each subcommand is imported when it runs: `validate` in CI need not load the whole bot that `demo`
 * starts (about 0.3 s of a validate, bench/startup.ts).
 */
export async function runCli(io: CliIo): Promise<number> {
  const [command, ...args] = io.argv;
  switch (command) {
    case 'validate':
      return (await import('./validate.js')).runValidate(args, io);
    case 'init':
      return (await import('./init.js')).runInit(args, io);
    case 'schema':
      return (await import('./schema.js')).runSchema(args, io);
    case 'iam-policy':
      return (await import('./iam-policy.js')).runIamPolicy(args, io);
    case 'reference':
      return (await import('./reference.js')).runReference(args, io);
    case 'demo':
      return (await import('./demo.js')).runDemo(args, io);
    case 'audit':
      return (await import('./audit.js')).runAudit(args, io);
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
