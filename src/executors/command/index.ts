// Tested by test/integration/executors/run-process.test.ts, test/integration/executors/command-env.test.ts, test/integration/executors/step-performer.test.ts, test/e2e/slack-journey.test.ts (steps and checks as real commands).
import type { Executor } from '../executor.js';
import { inheritedEnv, inheritedSecrets } from './inherit-env.js';
import { commandParams, type CommandParams } from './params.js';
import { runProcess } from './run-process.js';

/** The last output line, when it is a JSON object, becomes the step's output for later steps. */
function outputOf(text: string): Record<string, unknown> {
  const last = text.trimEnd().split('\n').at(-1)?.trim() ?? '';
  if (!last.startsWith('{')) return {};
  try {
    const parsed: unknown = JSON.parse(last);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

const timedOut = (signal: AbortSignal): boolean =>
  signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError';

export const commandExecutor: Executor<CommandParams> = {
  kind: 'command',
  description: 'Runs a program with arguments (never through a shell); output is captured and truncated.',
  params: commandParams,
  valuePlaces: { argv: 'argv' },
  secretsHandedOver: (params, env) => inheritedSecrets(params.inheritEnv ?? [], env),
  async run(ctx, params) {
    const [program, ...args] = params.argv;
    if (program === undefined) return { outcome: 'failed', error: 'no program to run' };
    // PATH (runProcess), then what the plan inherits, then its own `env`, which wins: it is the
    // most specific thing the plan says.
    const env = { ...inheritedEnv(params.inheritEnv ?? [], ctx.env), ...params.env };
    const result = await runProcess({
      argv: [program, ...args],
      ...(params.cwd === undefined ? {} : { cwd: params.cwd }),
      env,
      timeoutMs: Math.min(params.timeout, ctx.timeoutMs),
      signal: ctx.signal,
      onLine: (line) => {
        ctx.log.line(line);
      },
    });
    const output = {
      ...outputOf(result.output),
      exitCode: result.exitCode,
      tail: result.output.slice(-2_000),
    };
    const seconds = (result.durationMs / 1_000).toFixed(1);
    switch (result.ended) {
      case 'spawn_error':
        return {
          outcome: 'failed',
          error: `could not start ${program}: ${result.spawnError ?? 'unknown error'}`,
        };
      case 'aborted':
      case 'timeout':
        // The step performer stops a step at STEP_TIMEOUT_MAX by aborting with a TimeoutError: that
        // is the time limit too, not a cancel, and must read as such in the thread.
        return result.ended === 'timeout' || timedOut(ctx.signal)
          ? {
              outcome: 'failed',
              error: `${program} did not finish within its time limit and was stopped`,
              output,
            }
          : {
              outcome: 'failed',
              error: `${program} was stopped (rollback cancelled or bot shutting down)`,
              output,
            };
      case 'exited':
        return result.exitCode === 0
          ? { outcome: 'succeeded', output, summary: `${program} exited 0 in ${seconds}s` }
          : {
              outcome: 'failed',
              error: `${program} exited with ${result.exitCode === null ? `signal ${result.signal ?? '?'}` : `code ${result.exitCode}`}`,
              output,
            };
    }
  },
};
