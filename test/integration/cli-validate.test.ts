/** The real `rollback-bot` command, run as users run it: through bin/rollback-bot.js in a child process. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'rollback-bot-cli-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    // process.execPath is the Node 24 that runs vitest; the bare `node` of the machine may be older.
    const { stdout, stderr } = await run(process.execPath, [join(root, 'bin/rollback-bot.js'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('rollback-bot validate', () => {
  it('passes on the project manifests (the default path); the only warnings are the Prometheus files and the Slack app manifest, skipped', async () => {
    const { code, stdout } = await cli(['validate']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    const skipped = (file: string) =>
      `${file}:1:1  warning: not a rollback-bot manifest (no document has apiVersion rollback-bot/v1 or a known kind): skipped`;
    expect(lines).toEqual([
      skipped('manifests/prometheus/alertmanager-route.yaml'),
      skipped('manifests/prometheus/rollback-rules.test.yaml'),
      skipped('manifests/prometheus/rollback-rules.yaml'),
      skipped('manifests/slack-app.yaml'),
      '13 plans, 2 authority policies, 1 communications: 0 errors, 4 warnings',
    ]);
  });

  it('passes on the contract example (the project keeps an exact copy)', async () => {
    const { code, stdout } = await cli(['validate', 'manifests/examples/example-config.yaml']);
    expect(code).toBe(0);
    // No warning: every executor it uses (healthcheck, http, manual, command) is implemented.
    expect(stdout).toMatch(/1 plan, 1 authority policy, 0 communications: 0 errors, 0 warnings\n$/);
  });

  it('prints one line per problem and fails on the broken plans', async () => {
    const { code, stdout } = await cli(['validate', 'test/fixtures/broken-plans']);
    expect(code).toBe(1);
    const errors = stdout.split('\n').filter((line) => line.includes('  error: '));
    expect(errors).toHaveLength(24);
    expect(errors).toContain(
      'test/fixtures/broken-plans/07-bad-duration.yaml:11:3  spec.rto  error: "15 minutes" is not a duration: write a number followed by ms, s, m, h or d, e.g. 30s, 15m, 1h30m (see docs/plan-reference.md#plan-rto)',
    );
    expect(stdout).toMatch(/\n13 plans, 3 authority policies, 1 communications: 24 errors, \d+ warnings\n$/);
  });

  it('reads ROLLBACK_CONFIG when no path is given', async () => {
    const { code, stdout } = await cli(['validate'], {
      ROLLBACK_CONFIG: 'test/fixtures/broken-plans/07-bad-duration.yaml',
    });
    expect(code).toBe(1);
    expect(stdout).toContain('07-bad-duration.yaml:11:3  spec.rto  error:');
  });

  it('with --env-check, requires the referenced environment variables', async () => {
    const file = join(scratch, 'flag.yaml');
    const plan =
      readFileSync(join(root, 'test/fixtures/broken-plans/00-authority-policy.yaml'), 'utf8') +
      readFileSync(join(root, 'test/fixtures/broken-plans/12-literal-secret.yaml'), 'utf8')
        .replace('# One mistake', '---\n# One mistake')
        .replace('Bearer 8f14e45fceea167a5a36dedd4bea2543', "'Bearer ${env:DEPLOY_TOKEN}'");
    writeFileSync(file, plan);
    expect((await cli(['validate', file])).code).toBe(0);
    const unset = await cli(['validate', file, '--env-check']);
    expect(unset.code).toBe(1);
    expect(unset.stdout).toContain(
      'with.headers.Authorization  error: needs the environment variable DEPLOY_TOKEN, which is not set',
    );
    expect((await cli(['validate', file, '--env-check'], { DEPLOY_TOKEN: 'x' })).code).toBe(0);
  }, 60_000);

  it('holds step timeouts to STEP_TIMEOUT_MAX from the environment (default 60m), naming both values', async () => {
    // The default passes: the first test validates these examples without STEP_TIMEOUT_MAX.
    const examples = 'manifests/examples';
    const { code, stdout } = await cli(['validate', examples], { STEP_TIMEOUT_MAX: '20m' });
    expect(code).toBe(1);
    expect(stdout).toContain(
      'manifests/examples/database-backup-then-migrate-down.yaml:56:13  spec.strategies.migrate-down.steps[1].with.timeout  error: timeout 45m is longer than STEP_TIMEOUT_MAX (20m)',
    );
    const bad = await cli(['validate', examples], { STEP_TIMEOUT_MAX: 'an hour' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('STEP_TIMEOUT_MAX is not a duration ("an hour")');
  }, 60_000);

  it('says so when the path does not exist', async () => {
    const { code, stderr } = await cli(['validate', 'no/such/place']);
    expect(code).toBe(1);
    expect(stderr).toBe('no/such/place: no such file or folder (give a manifest file or a folder of them)\n');
  });
});

describe('rollback-bot commands', () => {
  it('prints usage and exits 2 on an unknown command', async () => {
    const { code, stderr } = await cli(['deploy']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^rollback-bot: unknown command "deploy"\n\nusage: rollback-bot <command>/);
  });

  it('writes the JSON Schema that is committed', async () => {
    const file = join(scratch, 'schema.json');
    const { code } = await cli(['schema', file]);
    expect(code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(
      readFileSync(join(root, 'manifests/rollback-bot.schema.json'), 'utf8'),
    );
  });
});
