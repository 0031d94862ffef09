import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runProcess } from '../../../src/executors/command/run-process.js';

const never = new AbortController().signal;

/** Running, as opposed to gone or a zombie waiting for a parent that does not reap (PID 1 here may not). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

describe('runProcess (real child processes)', () => {
  it('captures output line by line and the exit code', async () => {
    const lines: string[] = [];
    const result = await runProcess({
      argv: ['sh', '-c', 'echo one; echo two >&2; exit 3'],
      timeoutMs: 5_000,
      signal: never,
      onLine: (line) => lines.push(line),
    });
    expect(result).toMatchObject({ exitCode: 3, ended: 'exited' });
    expect(lines.sort()).toEqual(['one', 'two']);
    expect(result.output).toContain('one');
  });

  it('passes arguments verbatim, never through a shell', async () => {
    const result = await runProcess({ argv: ['echo', '$(id); rm -rf /'], timeoutMs: 5_000, signal: never });
    expect(result.output.trim()).toBe('$(id); rm -rf /');
  });

  it('kills the whole process group on timeout, grandchildren included', async () => {
    const result = await runProcess({
      argv: ['sh', '-c', 'sleep 30 & echo $!; wait'],
      timeoutMs: 300,
      killGraceMs: 200,
      signal: never,
    });
    expect(result.ended).toBe('timeout');
    const grandchild = Number(result.output.trim());
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(running(grandchild)).toBe(false);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const result = await runProcess({
      argv: ['sh', '-c', 'trap "" TERM; sleep 30'],
      timeoutMs: 200,
      killGraceMs: 200,
      signal: never,
    });
    expect(result.ended).toBe('timeout');
    expect(result.durationMs).toBeLessThan(5_000);
  });

  it('stops on abort', async () => {
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 100);
    const result = await runProcess({ argv: ['sleep', '30'], timeoutMs: 10_000, signal: controller.signal });
    expect(result.ended).toBe('aborted');
  });

  it('keeps the tail of long output', async () => {
    const result = await runProcess({
      argv: ['sh', '-c', 'seq 1 20000'],
      timeoutMs: 5_000,
      signal: never,
      maxOutputChars: 100,
    });
    expect(result.truncated).toBe(true);
    expect(result.output.length).toBeLessThanOrEqual(100);
    expect(result.output.trim().endsWith('20000')).toBe(true);
  });

  it('reports a program that does not exist', async () => {
    const result = await runProcess({ argv: ['/nonexistent/program'], timeoutMs: 5_000, signal: never });
    expect(result.ended).toBe('spawn_error');
    expect(result.spawnError).toMatch(/ENOENT/);
  });
});
