/**
 * `npm run demo` as a user runs it: `npx tsx src/cli/main.ts demo` in a child process, no Slack, no
 * Redis: the bot over the Slack simulator, the channel printed as people see it, then the timeline.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);

async function demo(): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'src/cli/main.ts', 'demo'], {
      cwd: root,
      // No REDIS_URL: the demo must not need Redis.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      // Generous: the suite runs it beside other tests that start whole bots (and a browser).
      timeout: 80_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Step names of the demo plan, read from the file so the test follows the plan. */
function stepNames(): string[] {
  const docs = readFileSync(join(root, 'manifests/demo/demo-plan.yaml'), 'utf8').split(/^---$/m);
  const plan = parse(docs[1] ?? '') as {
    spec: { strategies: Record<string, { steps: Array<{ name: string }> }> };
  };
  return Object.values(plan.spec.strategies).flatMap((s) => s.steps.map((step) => step.name));
}

describe('rollback-bot demo', () => {
  it('plays a whole rollback to resolved and prints the channel and the timeline', async () => {
    const { code, stdout, stderr } = await demo();
    expect(stderr.replace(/^npm warn .*$/gm, '').trim()).toBe('');
    expect(code).toBe(0);
    // The outsider's click is refused in an ephemeral only they see.
    expect(stdout).toContain(
      '(only U0NOBODY) bot: 🙅 needs on-call-engineer or above; you hold no role in authority policy "demo"',
    );
    const names = stepNames();
    expect(names.length).toBeGreaterThan(1);
    for (const name of names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))) {
      expect(stdout).toMatch(new RegExp(`step \\d/\\d \\*${name}\\* started`));
      expect(stdout).toMatch(new RegExp(`step \\d/\\d \\*${name}\\* succeeded`));
    }
    // Step output in the thread, the second step reading the first one's JSON answer.
    expect(stdout).toContain('draining blue');
    expect(stdout).toContain('green serves v1.4.1 (drain reported previous=v1.4.1)');
    expect(stdout).toContain('[Mark done]');
    expect(stdout).toContain('ROLLBACK COMPLETE');
    expect(stdout).toContain('*State* ✅ resolved');
    expect(stdout).toMatch(
      /Timeline of rb-[0-9a-f]+ from GET \/api\/rollbacks\/\S+ \(final state: resolved\)/,
    );
    for (const event of ['DECLARE', 'APPROVE', 'STEP_STARTED', 'STEP_SUCCEEDED', 'CHECK_PASSED']) {
      expect(stdout).toMatch(new RegExp(`\\d\\d:\\d\\d:\\d\\d  ${event}\\s`));
    }
    expect(stdout).toMatch(/\d\d:\d\d:\d\d {2}MANUAL_DONE\s+U0ONCALL1\s+→ resolved/);
  }, 90_000);
});
