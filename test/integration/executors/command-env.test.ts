/**
 * What a command step's program receives of the bot's environment: PATH only, unless `inheritEnv`
 * names more, and never the bot's own credentials. Real child processes print their environment.
 */
import { describe, expect, it } from 'vitest';
import { commandExecutor } from '../../../src/executors/command/index.js';
import { defaultRegistry } from '../../../src/executors/default-registry.js';
import { stepContext } from '../../support/http-peer.js';

const BOT_ENV = {
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  HOME: '/home/node',
  AWS_REGION: 'eu-west-3',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE12',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  KUBECONFIG: '/etc/kube/config',
  KUBECONFIG_EXTRA: '/etc/kube/other',
  SLACK_BOT_TOKEN: 'xoxb-1-2-bot-token',
  SLACK_SIGNING_SECRET: 'signing-secret-value',
  SLACK_NOTES: 'plain',
  API_TOKEN: 'api-token-value',
  REDIS_URL: 'redis://:pw@redis:6379',
};

/** The environment the program saw, as `env` prints it. */
async function seen(params: Record<string, unknown>): Promise<Record<string, string>> {
  const { ctx, lines } = stepContext(undefined, undefined, BOT_ENV);
  const result = await commandExecutor.run(ctx, commandExecutor.params.parse({ argv: ['env'], ...params }));
  expect(result.outcome).toBe('succeeded');
  return Object.fromEntries(
    lines.map((line): [string, string] => [
      line.slice(0, line.indexOf('=')),
      line.slice(line.indexOf('=') + 1),
    ]),
  );
}

describe('command executor: the environment of the program', () => {
  it('passes PATH only by default', async () => {
    expect(await seen({})).toEqual({ PATH: BOT_ENV.PATH });
  });

  it('adds the variables inheritEnv names, by name or by prefix', async () => {
    expect(await seen({ inheritEnv: ['AWS_*', 'KUBECONFIG'] })).toEqual({
      PATH: BOT_ENV.PATH,
      AWS_REGION: 'eu-west-3',
      AWS_ACCESS_KEY_ID: BOT_ENV.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: BOT_ENV.AWS_SECRET_ACCESS_KEY,
      KUBECONFIG: '/etc/kube/config',
    });
  });

  it("never hands over the bot's own credentials through a prefix", async () => {
    expect(await seen({ inheritEnv: ['SLACK_*', 'API_*', 'REDIS_*'] })).toEqual({
      PATH: BOT_ENV.PATH,
      SLACK_NOTES: 'plain',
    });
  });

  it("lets the step's own env win over an inherited variable", async () => {
    expect(
      await seen({ inheritEnv: ['AWS_*'], env: { AWS_REGION: 'us-east-1', STAGE: 'blue' } }),
    ).toMatchObject({
      AWS_REGION: 'us-east-1',
      STAGE: 'blue',
    });
  });

  it('refuses the whole environment, malformed names and a bot credential by name', () => {
    const problems = defaultRegistry()
      .validateParams('command', {
        argv: ['env'],
        inheritEnv: ['*', 'AWS-*', 'AWS_*_KEY', 'SLACK_BOT_TOKEN', 'KUBECONFIG'],
      })
      .map((problem) => `${problem.path.join('.')}: ${problem.message}`);
    expect(problems).toEqual([
      'inheritEnv.0: must be a variable name (KUBECONFIG) or a prefix ending in * (AWS_*); * alone would pass the whole environment',
      'inheritEnv.1: must be a variable name (KUBECONFIG) or a prefix ending in * (AWS_*); * alone would pass the whole environment',
      'inheritEnv.2: must be a variable name (KUBECONFIG) or a prefix ending in * (AWS_*); * alone would pass the whole environment',
      "inheritEnv.3: is one of the bot's own credentials, which are never inherited; pass it explicitly in env as ${env:NAME} if the program really needs it",
    ]);
  });
});
