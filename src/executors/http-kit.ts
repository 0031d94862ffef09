/**
 * What the http and healthcheck executors share: one request through the global fetch that always
 * ends in a typed outcome (an answer, no answer, a time-out or an abort, never a throw), a body read
 * up to a limit so a huge answer cannot fill the memory, status matching and an abortable pause.
 */
import { STATUS_CODES } from 'node:http';
import { formatDuration } from '../domain/duration.js';
import { networkError } from '../lib/text.js';

/** Characters of an answer's body kept in a step's output (the thread and the snapshot stay small). */
export const OUTPUT_BODY_CHARS = 2_000;
/** Characters read from the network before the rest of a body is dropped unread. */
const READ_LIMIT_CHARS = 64_000;

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Readonly<Record<string, string>>;
  body?: string;
  /** The caller's signal: the rollback is cancelled or the bot is shutting down. */
  signal: AbortSignal;
  timeoutMs: number;
}

export type HttpOutcome =
  | {
      kind: 'answer';
      status: number;
      statusText: string;
      headers: Headers;
      text: string;
      /** The body was longer than the read limit; `text` is its beginning. */
      truncated: boolean;
      durationMs: number;
    }
  | { kind: 'no-answer'; error: string; durationMs: number }
  | { kind: 'timeout'; durationMs: number }
  | { kind: 'aborted'; durationMs: number };

export async function sendHttp(request: HttpRequest): Promise<HttpOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const deadline = AbortSignal.timeout(Math.max(1, Math.ceil(request.timeoutMs)));
  const signal = AbortSignal.any([request.signal, deadline]);
  const stopped = (): HttpOutcome | undefined => {
    if (request.signal.aborted) return { kind: 'aborted', durationMs: elapsed() };
    if (deadline.aborted) return { kind: 'timeout', durationMs: elapsed() };
    return undefined;
  };
  if (request.signal.aborted) return { kind: 'aborted', durationMs: 0 };
  try {
    const response = await fetch(request.url, {
      method: request.method,
      ...(request.headers === undefined ? {} : { headers: request.headers }),
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'follow',
      signal,
    });
    const { text, truncated } = await readText(response, READ_LIMIT_CHARS);
    return {
      kind: 'answer',
      status: response.status,
      statusText: response.statusText || (STATUS_CODES[response.status] ?? ''),
      headers: response.headers,
      text,
      truncated,
      durationMs: elapsed(),
    };
  } catch (error) {
    return stopped() ?? { kind: 'no-answer', error: networkError(error), durationMs: elapsed() };
  }
}

/** Reads at most `limit` characters, then cancels the rest so the connection is not drained. */
async function readText(response: Response, limit: number): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: text + decoder.decode(), truncated: false };
      text += decoder.decode(value, { stream: true });
      if (text.length > limit) return { text: text.slice(0, limit), truncated: true };
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** Accepted statuses: the expected one(s), or any 2xx when none is given. */
export function statusAccepted(status: number, expected: number | number[] | undefined): boolean {
  if (expected === undefined) return status >= 200 && status < 300;
  return Array.isArray(expected) ? expected.includes(status) : status === expected;
}

export function describeExpected(expected: number | number[] | undefined): string {
  if (expected === undefined) return 'expected 2xx';
  return Array.isArray(expected) ? `expected one of ${expected.join(', ')}` : `expected ${expected}`;
}

/** "200 OK", "503 Service Unavailable". */
export function statusLine(status: number, statusText: string): string {
  return statusText ? `${status} ${statusText}` : String(status);
}

export const human = (ms: number): string => formatDuration(ms);

/** Waits `ms`, or less if the signal aborts; resolves true when the whole pause elapsed. */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (elapsed: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(elapsed);
    };
    const onAbort = () => {
      done(false);
    };
    const timer = setTimeout(() => {
      done(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
