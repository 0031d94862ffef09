/**
 * `rollback-bot init`: for each platform, the plan and policy it writes pass the real validator;
 * wrong or missing flags are refused with exit 2 and a sentence naming them; nothing is overwritten
 * without --force.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { PLATFORMS, runInit } from '../../src/cli/init.js';
import type { CliIo } from '../../src/cli/io.js';
import { runValidate } from '../../src/cli/validate.js';

const root = join(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'rollback-bot-init-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

async function run(
  command: (args: readonly string[], io: CliIo) => Promise<number>,
  args: string[],
  ask?: (question: string) => Promise<string | undefined>,
) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await command(args, {
    argv: args,
    env: {},
    cwd: scratch,
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    ...(ask ? { ask } : {}),
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const flags = (platform: string, out: string) => [
  '--service',
  'checkout-api',
  '--channel',
  'C0INCIDENTS',
  '--platform',
  platform,
  '--out',
  out,
];

describe('rollback-bot init', () => {
  it.each(PLATFORMS)('writes a %s plan and a policy that validate with 0 errors', async (platform) => {
    const written = await run(runInit, flags(platform, platform));
    expect(written).toMatchObject({ code: 0, stderr: '' });
    expect(written.stdout).toContain(
      `wrote ${platform}/checkout-api.yaml\nwrote ${platform}/authority-policy.yaml\n`,
    );
    const checked = await run(runValidate, [platform]);
    expect(checked.code).toBe(0);
    // The roles have no members until someone fills them in: warnings, each saying so.
    expect(checked.stdout).toMatch(/\n1 plan, 1 authority policy, 0 communications: 0 errors, 4 warnings\n$/);
    expect(checked.stdout).toContain('role "on-call-engineer" has no members');
    const plan = readFileSync(join(scratch, platform, 'checkout-api.yaml'), 'utf8');
    expect(plan).toContain(`uses: ${platform}\n`);
    expect(plan).toContain('channel: C0INCIDENTS\n');
  });

  it('puts the schema description of each field above it, and a CHANGE: note on what it had to guess', async () => {
    await run(runInit, flags('kubernetes', 'described'));
    const plan = readFileSync(join(scratch, 'described/checkout-api.yaml'), 'utf8');
    expect(plan).toContain(
      "  # Service name, as in the alerts' `service` label; one plan per service.\n  service: checkout-api\n",
    );
    expect(plan).toContain(
      '            # Namespace of the workload.\n            # CHANGE: the namespace the Deployment runs in.\n            namespace: default\n',
    );
    const policy = readFileSync(join(scratch, 'described/authority-policy.yaml'), 'utf8');
    expect(policy).toContain(
      '  # Who may approve, by time since the incident started, ascending.\n  tiers:\n',
    );
    // Every line fits an editor's window.
    for (const line of `${plan}${policy}`.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it.each([
    [
      ['--service', 'Checkout API', '--channel', 'C0X1', '--platform', 'ecs'],
      /--service "Checkout API" must be lowercase/,
    ],
    [
      ['--service', 'checkout', '--channel', '#incidents', '--platform', 'ecs'],
      /--channel "#incidents" is not a Slack channel id: give its id, such as C0123ABCD/,
    ],
    [
      ['--service', 'checkout', '--channel', 'C0X1', '--platform', 'nomad'],
      /--platform "nomad" is not one of kubernetes, ecs, http, command/,
    ],
    [
      ['--service', 'checkout', '--chanel', 'C0X1'],
      /unexpected --chanel \(init takes --service, --channel, --platform, --out, --force\)/,
    ],
    [['--service'], /--service needs a value/],
    [
      ['--channel', 'C0X1'],
      /missing --service, --platform \(stdin is not a terminal, so nothing can be asked\)/,
    ],
  ])('refuses %j with exit 2 and says why', async (args, message) => {
    const { code, stdout, stderr } = await run(runInit, args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^rollback-bot init: ${message.source}`));
    expect(stderr).toContain('usage: rollback-bot <command>');
  });

  it('shows the usage with --help', async () => {
    const { code, stdout } = await run(runInit, ['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('init --service NAME --channel ID --platform kubernetes|ecs|http|command');
  });

  it('asks at a terminal for what the flags left out, again after a wrong answer', async () => {
    const answers = ['#incidents', 'C0ASKED', 'http'];
    const questions: string[] = [];
    const { code, stderr } = await run(runInit, ['--service', 'asked', '--out', 'asked'], (question) => {
      questions.push(question);
      return Promise.resolve(answers.shift());
    });
    expect(code).toBe(0);
    expect(questions).toEqual([
      "Slack channel id for incidents (C..., from the channel's About tab, not #name): ",
      "Slack channel id for incidents (C..., from the channel's About tab, not #name): ",
      'Where the service runs (kubernetes, ecs, http, command): ',
    ]);
    expect(stderr).toContain('--channel "#incidents" is not a Slack channel id');
    expect(readFileSync(join(scratch, 'asked/asked.yaml'), 'utf8')).toContain('channel: C0ASKED\n');
    // An empty answer gives up.
    const gaveUp = await run(runInit, ['--out', 'nothing'], () => Promise.resolve(''));
    expect(gaveUp.code).toBe(2);
    expect(gaveUp.stderr).toMatch(/^rollback-bot init: no --service given/);
  });

  it('never overwrites a plan without --force, and keeps an existing policy', async () => {
    expect((await run(runInit, flags('command', 'kept'))).code).toBe(0);
    const policy = join(scratch, 'kept/authority-policy.yaml');
    const plan = join(scratch, 'kept/checkout-api.yaml');
    writeFileSync(plan, '# edited by hand\n');
    writeFileSync(policy, '# edited by hand\n');
    const again = await run(runInit, flags('ecs', 'kept'));
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'kept/checkout-api.yaml already exists: not overwritten (give --force to replace it, or another --out)\n',
    );
    expect(readFileSync(plan, 'utf8')).toBe('# edited by hand\n');
    // A second service beside the first: its plan is written, the shared policy stays.
    const second = await run(runInit, [
      ...flags('ecs', 'kept').slice(0, 1),
      'payments',
      ...flags('ecs', 'kept').slice(2),
    ]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('kept kept/authority-policy.yaml as it is');
    expect(readFileSync(policy, 'utf8')).toBe('# edited by hand\n');
    const forced = await run(runInit, [...flags('ecs', 'kept'), '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(plan, 'utf8')).toContain('uses: ecs\n');
    expect(readFileSync(policy, 'utf8')).toContain('kind: AuthorityPolicy\n');
  });

  it('is a command of the rollback-bot binary, which refuses missing flags when stdin is not a terminal', async () => {
    const result = await promisify(execFile)(
      process.execPath,
      [join(root, 'bin/rollback-bot.js'), 'init', '--service', 'bin-check', '--out', join(scratch, 'bin')],
      { cwd: root, env: { PATH: process.env.PATH ?? '' } },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^rollback-bot init: missing --channel, --platform \(stdin is not a terminal/,
    );
  }, 60_000);
});
