/** promtool and amtool check the shipped files when they are installed (CI installs them). */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);
const RULES = 'manifests/prometheus/rollback-rules.yaml';
const RULE_TESTS = 'manifests/prometheus/rollback-rules.test.yaml';

function onPath(tool: string): boolean {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const promtool = onPath('promtool');
const amtool = onPath('amtool');
if (!promtool)
  console.warn(
    'promtool is not on PATH: the rules check and the rules unit tests are skipped (apt-get install prometheus)',
  );
if (!amtool) console.warn('amtool is not on PATH: the Alertmanager config check is skipped');

/** Runs a tool from the repository root; on failure, the error carries what the tool printed. */
async function tool(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd: root });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: error });
  }
}

const ruleCount = (
  parse(readFileSync(join(root, RULES), 'utf8')) as { groups: { rules: unknown[] }[] }
).groups.reduce((count, group) => count + group.rules.length, 0);

describe('Prometheus manifests, checked by the real tools', () => {
  it.skipIf(!promtool)(
    `promtool check rules${promtool ? '' : ' (skipped: promtool not on PATH)'}`,
    async () => {
      expect(await tool('promtool', ['check', 'rules', RULES])).toContain(
        `SUCCESS: ${ruleCount} rules found`,
      );
    },
  );

  it.skipIf(!promtool)(
    `promtool test rules: every alert fires over its threshold and not below${promtool ? '' : ' (skipped: promtool not on PATH)'}`,
    async () => {
      expect(await tool('promtool', ['test', 'rules', RULE_TESTS])).toContain('SUCCESS');
    },
    // A day of rule evaluations for the baseline rules: a few seconds, more on a busy machine.
    60_000,
  );

  it.skipIf(!amtool)(`amtool check-config${amtool ? '' : ' (skipped: amtool not on PATH)'}`, async () => {
    expect(await tool('amtool', ['check-config', 'manifests/prometheus/alertmanager-route.yaml'])).toContain(
      'SUCCESS',
    );
  });
});
