/**
 * Entry point of the `rollback-bot` command: `validate [PATH]`, `schema [FILE]`, `demo`,
 * `audit verify [ID]`, `help`.
 */
import { runAudit } from './audit.js';
import { runDemo } from './demo.js';
import { USAGE, type CliIo } from './io.js';
import { runSchema } from './schema.js';
import { runValidate } from './validate.js';

export async function runCli(io: CliIo): Promise<number> {
  const [command, ...args] = io.argv;
  switch (command) {
    case 'validate':
      return runValidate(args, io);
    case 'schema':
      return runSchema(args, io);
    case 'demo':
      return runDemo(io);
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
});
