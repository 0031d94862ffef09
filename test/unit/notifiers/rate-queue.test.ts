import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/lib/logging.js';
import {
  RateQueue,
  retryAfterMs,
  type AttemptContext,
  type AttemptOutcome,
  type RateQueueOptions,
} from '../../../src/notifiers/rate-queue.js';
import { JumpClock } from '../../support/jump-clock.js';

function setup(options: Partial<RateQueueOptions> = {}) {
  const clock = new JumpClock();
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('debug', {
    write: (line: string) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  const queue = new RateQueue({ log, now: clock.now, sleep: clock.sleep, random: () => 1, ...options });
  /** Every request sent: key, label, attempt and the virtual time it started and ended. */
  const sent: Array<{ key: string; label: string; attempt: number; start: number; end: number }> = [];
  const events: string[] = [];

  function job(key: string, label: string, outcomes: Array<AttemptOutcome | Error> = [{ kind: 'done' }]) {
    return {
      key,
      label,
      attempt: async (context: AttemptContext): Promise<AttemptOutcome> => {
        await context.ready();
        const start = clock.now();
        // The request takes 300 ms of virtual time.
        await clock.sleep(300);
        sent.push({ key, label, attempt: context.attempt, start, end: clock.now() });
        const outcome = outcomes[Math.min(context.attempt, outcomes.length) - 1]!;
        if (outcome instanceof Error) throw outcome;
        return outcome;
      },
      onDone: () => events.push(`done ${label}`),
      onGiveUp: (reason: string) => events.push(`gave up ${label}: ${reason}`),
    };
  }
  return { clock, queue, lines, sent, events, job };
}

const rejected = (status: number, retryAfter?: string): AttemptOutcome => ({
  kind: 'rejected',
  status,
  message: `HTTP ${status}`,
  ...(retryAfter === undefined ? {} : { retryAfter }),
});

describe('RateQueue', () => {
  it('returns from enqueue before the call starts, and runs one key in order, 1 s after each request ended', async () => {
    const { queue, sent, events, job } = setup();
    for (const label of ['a', 'b', 'c']) expect(queue.enqueue(job('k', label))).toBe(true);
    expect(sent).toHaveLength(0);
    expect(queue.size).toBe(3);
    await queue.idle();
    expect(events).toEqual(['done a', 'done b', 'done c']);
    expect(sent.map((s) => s.label)).toEqual(['a', 'b', 'c']);
    for (let i = 1; i < sent.length; i += 1)
      expect(sent[i]!.start - sent[i - 1]!.end).toBeGreaterThanOrEqual(1_000);
    expect(queue.size).toBe(0);
  });

  it('keeps keys apart: a key stuck in retries does not hold up another', async () => {
    const { queue, sent, events, job } = setup({ maxAttempts: 3 });
    queue.enqueue(job('slow', 's1', [rejected(503), rejected(503), { kind: 'done' }]));
    queue.enqueue(job('fast', 'f1'));
    queue.enqueue(job('fast', 'f2'));
    await queue.idle();
    expect(events.indexOf('done f2')).toBeLessThan(events.indexOf('done s1'));
    const fast = sent.filter((s) => s.key === 'fast');
    expect(fast[1]!.start - fast[0]!.end).toBeGreaterThanOrEqual(1_000);
  });

  const retried: Array<[string, AttemptOutcome | Error]> = [
    ['420', rejected(420)],
    ['429', rejected(429)],
    ['500', rejected(500)],
    ['503', rejected(503)],
    ['no answer', { kind: 'unreachable', message: 'connect ECONNREFUSED' }],
    ['a thrown error', new Error('socket hang up')],
    ['busy', { kind: 'busy', message: 'claimed elsewhere' }],
  ];
  it.each(retried)('retries after %s', async (_name, first) => {
    const { queue, sent, events, job } = setup();
    queue.enqueue(job('k', 'x', [first, { kind: 'done' }]));
    await queue.idle();
    expect(sent.map((s) => s.attempt)).toEqual([1, 2]);
    expect(events).toEqual(['done x']);
  });

  it('gives a 4xx other than 420/429 up at once', async () => {
    const { queue, sent, events, job } = setup();
    queue.enqueue(job('k', 'x', [rejected(401)]));
    await queue.idle();
    expect(sent).toHaveLength(1);
    expect(events).toEqual(['gave up x: HTTP 401']);
  });

  it('backs off exponentially and gives up after maxAttempts, saying how many', async () => {
    const { queue, clock, sent, events, job } = setup({
      maxAttempts: 4,
      baseDelayMs: 1_000,
      intervalMs: 100,
    });
    queue.enqueue(job('k', 'x', [rejected(503)]));
    await queue.idle();
    expect(sent).toHaveLength(4);
    expect(events).toEqual(['gave up x: HTTP 503 (4 attempts)']);
    // random() = 1 gives the full backoff: 1 s, 2 s, 4 s (each after the 300 ms request).
    expect(clock.sleeps.filter((ms) => ms !== 300)).toEqual([1_000, 2_000, 4_000]);
  });

  it('honours Retry-After (seconds and HTTP date) and gives up when it asks for more than maxDelayMs', async () => {
    const { queue, clock, sent, events, job } = setup({ maxDelayMs: 10_000 });
    queue.enqueue(job('k', 'seconds', [rejected(429, '7'), { kind: 'done' }]));
    await queue.idle();
    expect(sent[1]!.start - sent[0]!.end).toBeGreaterThanOrEqual(7_000);

    const date = new Date(clock.now() + 300 + 5_000).toUTCString();
    queue.enqueue(job('k', 'date', [rejected(429, date), { kind: 'done' }]));
    queue.enqueue(job('k', 'too long', [rejected(429, '60')]));
    await queue.idle();
    // An HTTP date has whole seconds: up to 999 ms of the 5 s asked are lost in it.
    expect(sent[3]!.start - sent[2]!.end).toBeGreaterThanOrEqual(3_001);
    expect(events).toEqual([
      'done seconds',
      'done date',
      'gave up too long: HTTP 429 (the server asked to wait longer than 10000 ms)',
    ]);
  });

  it('does not spend the interval on an attempt that sent nothing', async () => {
    const { queue, clock, events } = setup();
    queue.enqueue({
      key: 'k',
      label: 'skip',
      attempt: () => Promise.resolve({ kind: 'skipped', reason: 'dup' }),
    });
    queue.enqueue({
      key: 'k',
      label: 'skip2',
      attempt: () => Promise.resolve({ kind: 'skipped', reason: 'dup' }),
      onDone: () => events.push('done'),
    });
    await queue.idle();
    expect(events).toEqual(['done']);
    expect(clock.sleeps).toEqual([]);
  });

  it('drops the oldest waiting call when a key has too many, with a log line', async () => {
    const { queue, lines, events, job } = setup({ maxQueued: 2 });
    for (const label of ['1', '2', '3', '4']) queue.enqueue(job('k', label));
    await queue.idle();
    expect(events).toEqual([
      'gave up 1: dropped: 2 newer calls were waiting',
      'gave up 2: dropped: 2 newer calls were waiting',
      'done 3',
      'done 4',
    ]);
    expect(
      lines.filter((l) => l.msg === 'rate queue full; dropped the oldest call').map((l) => l.call),
    ).toEqual(['1', '2']);
  });

  it('drains: refuses new calls, finishes queued ones within the grace period', async () => {
    const { queue, events, job } = setup();
    queue.enqueue(job('k', 'a'));
    queue.enqueue(job('k', 'b'));
    await queue.drain(5_000);
    expect(events).toEqual(['done a', 'done b']);
    expect(queue.enqueue(job('k', 'late'))).toBe(false);
  });

  it('drains: abandons what is left after the grace period and aborts the call in flight', async () => {
    const { queue, lines } = setup();
    let aborted = false;
    queue.enqueue({
      key: 'k',
      label: 'hangs',
      attempt: ({ signal }) =>
        new Promise<AttemptOutcome>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve({ kind: 'unreachable', message: 'aborted' });
          });
        }),
    });
    queue.enqueue({ key: 'k', label: 'waiting', attempt: () => Promise.resolve({ kind: 'done' }) });
    await queue.drain(20);
    expect(aborted).toBe(true);
    expect(queue.size).toBe(0);
    const abandoned = lines.filter((l) => l.msg === 'rate queue drained; call abandoned').map((l) => l.call);
    expect(abandoned.sort()).toEqual(['hangs', 'waiting']);
  });
});

describe('retryAfterMs', () => {
  const now = Date.UTC(2026, 10, 23, 8, 0, 0);
  it.each([
    ['2', 2_000],
    ['0', 0],
    ['1.5', 1_500],
    [new Date(now + 3_000).toUTCString(), 3_000],
    [new Date(now - 3_000).toUTCString(), 0],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
  ])('%s', (value, expected) => {
    expect(retryAfterMs(value, now)).toBe(expected);
  });
});
