// Tested by test/integration/executors/http.test.ts, test/e2e/untrusted-text.test.ts.
import type { Executor, ExecutorContext, StepResult } from '../executor.js';
import {
  OUTPUT_BODY_CHARS,
  describeExpected,
  human,
  pause,
  sendHttp,
  statusAccepted,
  statusLine,
  type HttpOutcome,
} from '../http-kit.js';
import { excerpt } from '../../lib/text.js';
import { httpParams, type HttpParams } from './params.js';

/** Methods that may be sent twice: a POST or a PATCH may have taken effect before the error. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 8_000;

export const httpExecutor: Executor<HttpParams> = {
  kind: 'http',
  description: 'Calls an HTTP endpoint (switch traffic, trigger a pipeline) and checks the status code.',
  params: httpParams,
  valuePlaces: { url: 'url' },
  run: runHttp,
};

async function runHttp(ctx: ExecutorContext, params: HttpParams): Promise<StepResult> {
  const { method, url } = params;
  const call = `${method} ${url}`;
  const idempotent = IDEMPOTENT.has(method);
  if (params.retries > 0 && !idempotent) {
    ctx.log.warn(
      `retries: ${params.retries} ignored: a ${method} is never sent twice, it may have taken effect`,
    );
  }
  const maxAttempts = idempotent ? params.retries + 1 : 1;
  const limitMs = Math.min(params.timeout, ctx.timeoutMs);
  const started = performance.now();
  const remaining = () => limitMs - (performance.now() - started);
  const request = { method, url, ...requestBody(params), signal: ctx.signal };
  const after = (attempts: number) => (attempts > 1 ? ` after ${attempts} attempts` : '');

  for (let attempt = 1; ; attempt++) {
    ctx.log.line(maxAttempts > 1 ? `${call} (attempt ${attempt}/${maxAttempts})` : call);
    const outcome = await sendHttp({ ...request, timeoutMs: remaining() });
    ctx.log.line(`→ ${outcomeLine(outcome)} (${outcome.durationMs} ms)`);
    const output = () => outputOf(outcome, ctx, attempt, Math.round(performance.now() - started));
    switch (outcome.kind) {
      case 'aborted':
        return { outcome: 'failed', error: `${call} was stopped (rollback cancelled or bot shutting down)` };
      case 'timeout':
        return {
          outcome: 'failed',
          error: `${call} did not answer within ${human(limitMs)}${after(attempt)}`,
        };
      case 'answer':
        if (statusAccepted(outcome.status, params.expectStatus)) {
          return {
            outcome: 'succeeded',
            output: output(),
            summary: `${call} answered ${statusLine(outcome.status, outcome.statusText)}${after(attempt)}`,
          };
        }
        break;
      case 'no-answer':
        break;
    }
    const failure =
      outcome.kind === 'answer'
        ? `${call} answered ${outcome.status} (${describeExpected(params.expectStatus)})${after(attempt)}${
            outcome.text.trim() ? `: ${excerpt(outcome.text)}` : ''
          }`
        : `${call} failed${after(attempt)}: ${outcome.error}`;
    const retryable = outcome.kind === 'no-answer' || outcome.status >= 500 || outcome.status === 429;
    if (!retryable || attempt >= maxAttempts) return { outcome: 'failed', error: failure, output: output() };

    const waitMs =
      (outcome.kind === 'answer' ? retryAfterMs(outcome.headers) : undefined) ?? backoff(attempt);
    if (waitMs >= remaining()) {
      return {
        outcome: 'failed',
        error: `${failure} (no time left for another attempt in ${human(waitMs)} within ${human(limitMs)})`,
        output: output(),
      };
    }
    ctx.log.line(`retrying in ${human(waitMs)}`);
    if (!(await pause(waitMs, ctx.signal))) {
      return { outcome: 'failed', error: `${call} was stopped (rollback cancelled or bot shutting down)` };
    }
  }
}

function requestBody(params: HttpParams): { headers?: Record<string, string>; body?: string } {
  const headers = { ...params.headers };
  const hasContentType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
  let body: string | undefined;
  if (params.json !== undefined) {
    body = JSON.stringify(params.json);
    if (!hasContentType) headers['content-type'] = 'application/json';
  } else if (params.form !== undefined) {
    body = new URLSearchParams(params.form).toString();
    if (!hasContentType) headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  return { headers, ...(body === undefined ? {} : { body }) };
}

function outcomeLine(outcome: HttpOutcome): string {
  switch (outcome.kind) {
    case 'answer':
      return statusLine(outcome.status, outcome.statusText);
    case 'no-answer':
      return `no answer: ${outcome.error}`;
    case 'timeout':
      return 'no answer in time';
    case 'aborted':
      return 'stopped';
  }
}

/**
 * `{ status, body, durationMs, attempts }`: the body parsed when it is JSON, so later steps can use
 * `{{ steps.<id>.output.body.field }}`; text otherwise, cut to OUTPUT_BODY_CHARS either way.
 */
function outputOf(
  outcome: HttpOutcome,
  ctx: ExecutorContext,
  attempts: number,
  durationMs: number,
): Record<string, unknown> {
  if (outcome.kind !== 'answer') return { status: null, durationMs, attempts };
  const base = { status: outcome.status, durationMs, attempts };
  const isJson = /[/+]json\b/i.test(outcome.headers.get('content-type') ?? '');
  if (isJson && !outcome.truncated) {
    try {
      const parsed: unknown = JSON.parse(outcome.text);
      if (JSON.stringify(parsed).length <= OUTPUT_BODY_CHARS) return { ...base, body: parsed };
    } catch {
      // Labelled JSON but is not: kept as text.
    }
  }
  if (isJson && (outcome.truncated || outcome.text.length > OUTPUT_BODY_CHARS)) {
    ctx.log.warn(
      `the JSON answer is longer than ${OUTPUT_BODY_CHARS} characters; only its first ${OUTPUT_BODY_CHARS} are kept, as text, so later steps cannot read its fields`,
    );
  }
  const truncated = outcome.truncated || outcome.text.length > OUTPUT_BODY_CHARS;
  return {
    ...base,
    body: outcome.text.slice(0, OUTPUT_BODY_CHARS),
    ...(truncated ? { bodyTruncated: true } : {}),
  };
}

/** Retry-After as seconds or as an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1_000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** 250 ms, 500 ms, 1 s... up to 8 s, each between half and all of it so retries do not line up. */
function backoff(attempt: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
