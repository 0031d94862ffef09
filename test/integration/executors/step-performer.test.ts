/**
 * The step performer between the engine and the executors, with real child processes: the step
 * limit it is given (STEP_TIMEOUT_MAX) caps every step, and whatever secret a step is handed, from
 * `${file:...}` read at step time or from the bot's environment through `inheritEnv`, is masked in
 * the lines the thread gets and in the result that is stored.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { start } from '../../../src/domain/rollback-machine.js';
import { SecretMask } from '../../../src/domain/secret-mask.js';
import type { StepWork } from '../../../src/engine/step-runner.js';
import { defaultRegistry } from '../../../src/executors/default-registry.js';
import { createStepPerformer } from '../../../src/executors/step-performer.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { rollbackInput, standardStrategy } from '../../support/domain-fixtures.js';

const scratch = mkdtempSync(join(tmpdir(), 'rollback-bot-performer-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

const BOT_ENV = {
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  AWS_REGION: 'eu-west-3',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_ENDPOINT_URL_SSM: 'https://user:url-password-123@ssm.internal.example.com',
};

/** A performer over the real registry, and the work item of a rollback whose one step runs `command`. */
function setup(withParams: Record<string, unknown>, maxStepMs = 60_000) {
  const lines: string[] = [];
  const secrets = new SecretMask();
  const performer = createStepPerformer({
    registry: defaultRegistry(),
    env: BOT_ENV,
    secrets,
    log: silentLogger,
    maxStepMs,
    onLine: (_, line) => lines.push(line),
  });
  const strategy = standardStrategy({
    steps: [{ name: 'Run', uses: 'command', with: withParams, onFailure: { kind: 'ask' }, database: false }],
  });
  const work: StepWork = {
    rollbackId: 'rb-1',
    index: 0,
    attempt: 1,
    snapshot: start(rollbackInput({ strategy })).persisted,
  };
  const run = () => performer.performStep(work, new AbortController().signal);
  return { run, lines, secrets };
}

describe('step performer', () => {
  it('masks the secrets a step inherits from the bot environment, in its lines and its stored output', async () => {
    const { run, lines } = setup({
      argv: ['sh', '-c', 'echo "key=$AWS_SECRET_ACCESS_KEY region=$AWS_REGION ssm=$AWS_ENDPOINT_URL_SSM"'],
      inheritEnv: ['AWS_*'],
    });
    const outcome = await run();
    const masked = 'key=••• region=eu-west-3 ssm=https://user:•••@ssm.internal.example.com';
    expect(lines).toEqual([masked]);
    expect(outcome).toMatchObject({ outcome: 'succeeded', output: { tail: `${masked}\n` } });
    expect(JSON.stringify(outcome)).not.toContain(BOT_ENV.AWS_SECRET_ACCESS_KEY);
  });

  it('reads a ${file:...} secret when the step runs, so a rotated file is used without a restart, and masks it', async () => {
    const file = join(scratch, 'token');
    // The program prints the value reversed (which the mask cannot recognise) and as it is (which it must).
    const { run, lines } = setup({
      argv: ['sh', '-c', 'printf "%s\\n" "$TOKEN" | rev; echo "plain $TOKEN"'],
      env: { TOKEN: '${file:' + file + '}' },
    });
    writeFileSync(file, 'first-secret-value\n');
    expect(await run()).toMatchObject({ outcome: 'succeeded' });
    writeFileSync(file, 'second-secret-value\n');
    expect(await run()).toMatchObject({ outcome: 'succeeded' });
    expect(lines).toEqual(['eulav-terces-tsrif', 'plain •••', 'eulav-terces-dnoces', 'plain •••']);
  });

  it('stops a step at STEP_TIMEOUT_MAX even when its own timeout is longer', async () => {
    const { run } = setup({ argv: ['sleep', '5'], timeout: '1m' }, 300);
    const started = performance.now();
    expect(await run()).toEqual({
      outcome: 'failed',
      error: 'sleep did not finish within its time limit and was stopped',
    });
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});
