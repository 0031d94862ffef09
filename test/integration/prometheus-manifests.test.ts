/** promtool and amtool check the shipped files when they are installed (CI installs them). */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);

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
  console.warn('promtool is not on PATH: the rules check is skipped (apt-get install prometheus)');
if (!amtool) console.warn('amtool is not on PATH: the Alertmanager config check is skipped');

const ruleCount = (
  parse(readFileSync(join(root, 'manifests/prometheus/rollback-rules.yaml'), 'utf8')) as {
    groups: { rules: unknown[] }[];
  }
).groups.reduce((count, group) => count + group.rules.length, 0);

describe('Prometheus manifests, checked by the real tools', () => {
  it.skipIf(!promtool)(
    `promtool check rules${promtool ? '' : ' (skipped: promtool not on PATH)'}`,
    async () => {
      const { stdout } = await run(
        'promtool',
        ['check', 'rules', 'manifests/prometheus/rollback-rules.yaml'],
        {
          cwd: root,
        },
      );
      expect(stdout).toContain(`SUCCESS: ${ruleCount} rules found`);
    },
  );

  it.skipIf(!amtool)(`amtool check-config${amtool ? '' : ' (skipped: amtool not on PATH)'}`, async () => {
    const { stdout } = await run('amtool', ['check-config', 'manifests/prometheus/alertmanager-route.yaml'], {
      cwd: root,
    });
    expect(stdout).toContain('SUCCESS');
  });
});
