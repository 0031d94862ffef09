// Tested by test/integration/executors/healthcheck.test.ts.
import type { Executor, StepResult } from '../executor.js';
import {
  describeExpected,
  human,
  pause,
  sendHttp,
  statusAccepted,
  statusLine,
  type HttpOutcome,
} from '../http-kit.js';
import { excerpt } from '../../lib/text.js';
import { healthcheckParams, type HealthcheckParams } from './params.js';

interface Probe {
  healthy: boolean;
  /** "200 OK", "503 Service Unavailable (expected 2xx)", "no answer: connect ECONNREFUSED". */
  description: string;
  status: number | null;
}

export const healthcheckExecutor: Executor<HealthcheckParams> = {
  kind: 'healthcheck',
  description: 'Polls a health endpoint until it succeeds N times in a row within M attempts.',
  params: healthcheckParams,
  valuePlaces: { url: 'url' },
  async run(ctx, params) {
    const { url, successes: needed, attempts } = params;
    const stepLimit = AbortSignal.timeout(ctx.timeoutMs);
    const signal = AbortSignal.any([ctx.signal, stepLimit]);
    const stopped = (): StepResult => ({
      outcome: 'failed',
      error: ctx.signal.aborted
        ? `health check of ${url} was stopped (rollback cancelled or bot shutting down)`
        : `health check of ${url} did not finish within the step's time limit of ${human(ctx.timeoutMs)}`,
    });
    const pattern = params.bodyMatch === undefined ? undefined : new RegExp(params.bodyMatch);
    const goal = `needed ${needed} success${needed === 1 ? '' : 'es'} in a row within ${attempts} attempt${attempts === 1 ? '' : 's'}`;
    let streak = 0;
    let best = 0;

    for (let n = 1; n <= attempts; n++) {
      const outcome = await sendHttp({ method: 'GET', url, signal, timeoutMs: params.timeout });
      if (outcome.kind === 'aborted') return stopped();
      const probe = judge(outcome, params, pattern);
      ctx.log.line(`probe ${n}/${attempts}: ${probe.description} (${outcome.durationMs} ms)`);
      streak = probe.healthy ? streak + 1 : 0;
      best = Math.max(best, streak);
      const output = { probes: n, successes: streak, lastStatus: probe.status };
      if (streak >= needed) {
        return {
          outcome: 'succeeded',
          output,
          summary: `${url} healthy: ${needed} success${needed === 1 ? '' : 'es'} in a row after ${n} probe${n === 1 ? '' : 's'}`,
        };
      }
      const left = attempts - n;
      if (streak + left < needed) {
        const why =
          left === 0
            ? `got ${best} in a row at most`
            : `after probe ${n}, the ${left} attempt${left === 1 ? '' : 's'} left cannot make it`;
        return {
          outcome: 'failed',
          error: `${url} is not healthy: ${goal}; ${why}; last probe: ${probe.description}`,
          output,
        };
      }
      if (!(await pause(params.interval, signal))) return stopped();
    }
    // Unreachable: the last attempt leaves no attempt for the streak to grow.
    return { outcome: 'failed', error: `${url} is not healthy: ${goal}` };
  },
};

function judge(outcome: HttpOutcome, params: HealthcheckParams, pattern: RegExp | undefined): Probe {
  switch (outcome.kind) {
    case 'aborted':
    case 'timeout':
      return { healthy: false, status: null, description: `no answer within ${human(params.timeout)}` };
    case 'no-answer':
      return { healthy: false, status: null, description: `no answer: ${outcome.error}` };
    case 'answer': {
      const status = statusLine(outcome.status, outcome.statusText);
      if (!statusAccepted(outcome.status, params.expectStatus)) {
        const body = excerpt(outcome.text, 120);
        return {
          healthy: false,
          status: outcome.status,
          description: `${status} (${describeExpected(params.expectStatus)})${body ? `: ${body}` : ''}`,
        };
      }
      if (pattern && !pattern.test(outcome.text)) {
        return {
          healthy: false,
          status: outcome.status,
          description: `${status} but the body does not match /${pattern.source}/: ${excerpt(outcome.text, 120)}`,
        };
      }
      return { healthy: true, status: outcome.status, description: status };
    }
  }
}
