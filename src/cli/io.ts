/** What a CLI command may touch, passed in so tests can run commands without a child process. */
export interface CliIo {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  out(text: string): void;
  err(text: string): void;
}

export const USAGE = `usage: rollback-bot <command>

commands:
  validate [PATH] [--env-check]  check the manifests in PATH (a file or a folder; default
                                 ROLLBACK_CONFIG, else manifests/); --env-check also requires
                                 every \${env:NAME} to be set in this environment
                                 (a step timeout above STEP_TIMEOUT_MAX, default 60m, is an error)
  schema [FILE]                  write the JSON Schema of the manifests to FILE (default: stdout)
  demo                           run the whole journey locally, without Slack or Redis
  audit verify [ID]              check the audit chain of rollback ID (default: every rollback)
                                 in the bot's Redis (REDIS_URL); exit 1 when one is broken
  help                           show this
`;
