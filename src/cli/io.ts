/** What a CLI command may touch, passed in so tests can run commands without a child process. */
export interface CliIo {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  out(text: string): void;
  err(text: string): void;
  /** Asks a person at a terminal and returns the answer; absent when stdin is not a terminal. */
  ask?(question: string): Promise<string | undefined>;
}

export const USAGE = `usage: rollback-bot <command>

commands:
  init --service NAME --channel ID --platform kubernetes|ecs|http|command [--out DIR] [--force]
                                 write a first plan (DIR/NAME.yaml) and authority policy
                                 (DIR/authority-policy.yaml, kept if it exists) to edit; DIR
                                 defaults to rollback/; asks for what is missing at a terminal
  validate [PATH] [--env-check]  check the manifests in PATH (a file or a folder; default
                                 ROLLBACK_CONFIG, else manifests/); --env-check also requires
                                 every \${env:NAME} to be set in this environment
                                 (a step timeout above STEP_TIMEOUT_MAX, default 60m, is an error)
  schema [FILE]                  write the JSON Schema of the manifests to FILE (default: stdout)
  iam-policy [FILE]              write the IAM policy of the AWS executors and SNS to FILE
                                 (default: stdout)
  reference [FILE]               write the plan reference (docs/plan-reference.md) to FILE
                                 (default: stdout)
  demo                           run the whole journey locally, without Slack or Redis
  demo --serve [--port N]        the same in a browser, to click through yourself
                                 (http://127.0.0.1:8300/ by default; --port 0: any free port)
  audit verify [ID]              check the audit chain of rollback ID (default: every rollback)
                                 in the bot's Redis (REDIS_URL); exit 1 when one is broken
  help                           show this
`;
