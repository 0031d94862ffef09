/**
 * The stakeholder outbox over the memory store with a scripted target and virtual time: a lane in
 * order and paced, lanes independent, retries with backoff or Retry-After, a refusal given up and
 * said, an outage said once per thread and its end once, a message kept once however often it is
 * handed over, bounds (waiting, age), and what survives the process: a new outbox on the same
 * store sends what the old one kept, and two on one store never send one lane at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { silentLogger } from '../../../src/lib/logging.js';
import {
  retryAfterMs,
  StakeholderOutbox,
  type StakeholderOutboxOptions,
} from '../../../src/notifiers/stakeholder-outbox.js';
import type { SendOutcome, StakeholderTarget } from '../../../src/notifiers/target.js';
import { StakeholderRegistry } from '../../../src/notifiers/target-registry.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { JumpClock } from '../../support/jump-clock.js';

interface Sent {
  lane: string;
  text: string;
  start: number;
  end: number;
}

/** A target whose answers the test scripts per message text (default: taken). */
function fakeTarget(clock: JumpClock, spacingMs = 0) {
  const sent: Sent[] = [];
  const script = new Map<string, Array<SendOutcome | Error>>();
  const target: StakeholderTarget<undefined, { lane: string; text: string }> = {
    kind: 'fake',
    template: 'slack',
    defaultEvents: [],
    spacingMs,
    body: z.object({ lane: z.string(), text: z.string() }),
    mayHear: () => true,
    settingsOf: () => undefined,
    hears: () => null,
    messages: () => [],
    async send(message, context) {
      await context.ready();
      const start = clock.now();
      // The request takes 300 ms.
      await clock.sleep(300);
      const outcome = script.get(message.text)?.shift() ?? { kind: 'sent' };
      sent.push({ lane: message.lane, text: message.text, start, end: clock.now() });
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
    label: (message) => `The fake ${message.lane}`,
    failure: (message, reason) => `The fake could not take ${message.text}: ${reason}.`,
  };
  return { target, sent, script };
}

const outboxes: StakeholderOutbox[] = [];
afterEach(async () => {
  await Promise.all(outboxes.splice(0).map((outbox) => outbox.stop(0)));
});

function setup(options: Partial<StakeholderOutboxOptions> & { spacingMs?: number } = {}) {
  const clock = new JumpClock();
  const store = options.store ?? new MemoryStore();
  const fake = fakeTarget(clock, options.spacingMs);
  const reports: string[] = [];
  const make = (owner: string) => {
    const outbox = new StakeholderOutbox({
      store,
      registry: new StakeholderRegistry().register(fake.target),
      report: (subject, message) => reports.push(`${subject.id}: ${message}`),
      log: silentLogger,
      owner,
      pollMs: 60_000,
      now: clock.now,
      sleep: clock.sleep,
      random: () => 1,
      ...options,
    });
    outboxes.push(outbox);
    return outbox;
  };
  const outbox = make('one');
  const keep = (text: string, lane = 'a', subject = 'rb-1', into = outbox) =>
    into.keep(fake.target, { kind: 'rollback', id: subject }, [
      { lane, id: `${text}:fake`, body: { lane, text } },
    ]);
  return { clock, store, outbox, make, keep, reports, ...fake };
}

describe('StakeholderOutbox', () => {
  it('sends a lane in order, each request `spacingMs` after the previous one ended', async () => {
    const { outbox, keep, sent } = setup({ spacingMs: 1_000 });
    for (const text of ['m1', 'm2', 'm3']) await keep(text);
    await outbox.idle();
    expect(sent.map((s) => s.text)).toEqual(['m1', 'm2', 'm3']);
    for (let i = 1; i < sent.length; i += 1) {
      expect(sent[i]!.start - sent[i - 1]!.end).toBeGreaterThanOrEqual(1_000);
    }
    expect(await outbox.waiting('fake:a')).toEqual([]);
  });

  it('keeps a message once, however often it is handed over, also after it was sent', async () => {
    const { outbox, keep, sent } = setup();
    await Promise.all([keep('m1'), keep('m1'), keep('m1')]);
    await outbox.idle();
    await keep('m1');
    await outbox.idle();
    expect(sent.map((s) => s.text)).toEqual(['m1']);
  });

  it('retries the head with backoff or Retry-After, the rest waiting behind it', async () => {
    const { outbox, keep, sent, script, reports } = setup();
    script.set('m1', [
      { kind: 'failed', message: 'HTTP 503' },
      { kind: 'failed', message: 'HTTP 429', retryAfterMs: 7_000 },
      new Error('socket hang up'),
    ]);
    await keep('m1');
    await keep('m2');
    await outbox.idle();
    expect(sent.map((s) => s.text)).toEqual(['m1', 'm1', 'm1', 'm1', 'm2']);
    // 1 s, then the 7 s asked for, then 4 s (backoff doubles from 1 s; jitter at its top).
    const gaps = sent.slice(1, 4).map((s, i) => s.start - sent[i]!.end);
    expect(gaps).toEqual([1_000, 7_000, 4_000]);
    // Three failed tries of the head: the outage is said once, then its end once.
    expect(reports).toEqual([
      'rb-1: The fake a is not answering (socket hang up). Its messages are kept and will be sent, in order, when it answers again. The rollback is not affected.',
      'rb-1: The fake a answers again: the messages kept for it are being sent, in order.',
    ]);
  });

  it('says an outage once per thread, a thread whose message arrives later included', async () => {
    const { outbox, keep, script, reports } = setup();
    script.set(
      'm1',
      Array.from({ length: 6 }, () => ({ kind: 'failed', message: 'down' }) as const),
    );
    await keep('m1', 'a', 'rb-1');
    await keep('m2', 'a', 'rb-1');
    await keep('m3', 'a', 'rb-2');
    await outbox.idle();
    expect(reports.filter((r) => r.includes('is not answering'))).toEqual([
      'rb-1: The fake a is not answering (down). Its messages are kept and will be sent, in order, when it answers again. The rollback is not affected.',
      'rb-2: The fake a is not answering (down). Its messages are kept and will be sent, in order, when it answers again. The rollback is not affected.',
    ]);
    expect(reports.filter((r) => r.includes('a answers again:'))).toHaveLength(2);
  });

  it('gives a refused message up, says it, and goes on with the next', async () => {
    const { outbox, keep, sent, script, reports } = setup();
    script.set('m1', [{ kind: 'refused', message: 'HTTP 401 <bad key>' }]);
    await keep('m1');
    await keep('m2');
    await outbox.idle();
    expect(sent.map((s) => s.text)).toEqual(['m1', 'm2']);
    expect(reports).toEqual(['rb-1: The fake could not take m1: HTTP 401 &lt;bad key&gt;.']);
  });

  it('sends lanes independently: one that keeps failing does not hold up another', async () => {
    const { outbox, keep, sent, script } = setup({ maxAgeMs: 60_000 });
    script.set(
      'slow',
      Array.from({ length: 50 }, () => ({ kind: 'failed', message: 'down' }) as const),
    );
    await keep('slow', 'a');
    await keep('quick', 'b');
    await outbox.idle();
    const quick = sent.find((s) => s.text === 'quick')!;
    expect(quick.start).toBeLessThan(sent.filter((s) => s.text === 'slow')[1]!.start);
  });

  it('gives up a message older than maxAgeMs, and the oldest when more than maxWaiting wait', async () => {
    const { outbox, keep, script, reports, sent } = setup({ maxAgeMs: 60_000, maxWaiting: 2 });
    script.set(
      'm1',
      Array.from({ length: 100 }, () => ({ kind: 'failed', message: 'down' }) as const),
    );
    await keep('m1');
    await keep('m2');
    await keep('m3');
    await outbox.idle();
    expect(reports.filter((r) => r.includes('could not take'))).toEqual([
      'rb-1: The fake could not take m1: 2 newer messages were waiting.',
    ]);
    expect(sent.filter((s) => s.text !== 'm1').map((s) => s.text)).toEqual(['m2', 'm3']);

    const late = setup({ maxAgeMs: 60_000 });
    late.script.set(
      'old',
      Array.from({ length: 100 }, () => ({ kind: 'failed', message: 'down' }) as const),
    );
    await late.keep('old');
    await late.outbox.idle();
    expect(late.reports.at(-1)).toBe('rb-1: The fake could not take old: it waited more than 1m.');
  });

  it('what one process kept, the next one sends; two on one store never send a lane at once', async () => {
    const { outbox, make, keep, sent, clock } = setup();
    await outbox.stop(0);
    await keep('m1');
    await keep('m2');
    expect(sent).toEqual([]);
    expect(await outbox.waiting('fake:a')).toEqual(['m1:fake', 'm2:fake']);

    // The next process, and a second replica, both looking at the lanes.
    const next = make('two');
    const replica = make('three');
    next.start();
    replica.start();
    await clock.sleep(0);
    const deadline = Date.now() + 5_000;
    while (sent.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await Promise.all([next.idle(), replica.idle()]);
    expect(sent.map((s) => s.text)).toEqual(['m1', 'm2']);
    for (let i = 1; i < sent.length; i += 1) expect(sent[i]!.start).toBeGreaterThanOrEqual(sent[i - 1]!.end);
  });
});

describe('a process without the target', () => {
  it('leaves the lane to one that has it, and gives it up only when it is too old for anyone', async () => {
    const { store, keep, sent, clock, reports, outbox } = setup({ maxAgeMs: 60_000 });
    await outbox.stop(0);
    await keep('m1');
    const without = new StakeholderOutbox({
      store,
      registry: new StakeholderRegistry(),
      report: (subject, message) => reports.push(`${subject.id}: ${message}`),
      log: silentLogger,
      owner: 'bare',
      maxAgeMs: 60_000,
      pollMs: 60_000,
      now: clock.now,
      sleep: clock.sleep,
    });
    outboxes.push(without);
    without.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await without.idle();
    expect(await without.waiting('fake:a')).toEqual(['m1:fake']);
    expect(reports).toEqual([]);
    await without.stop(0);

    await clock.sleep(61_000);
    const late = new StakeholderOutbox({
      store,
      registry: new StakeholderRegistry(),
      report: (subject, message) => reports.push(`${subject.id}: ${message}`),
      log: silentLogger,
      owner: 'late',
      maxAgeMs: 60_000,
      pollMs: 60_000,
      now: clock.now,
      sleep: clock.sleep,
    });
    outboxes.push(late);
    late.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await late.idle();
    expect(await late.waiting('fake:a')).toEqual([]);
    expect(sent).toEqual([]);
    expect(reports).toEqual([
      'rb-1: A fake message could not be sent: no fake target is configured. The rollback is not affected.',
    ]);
  });
});

describe('retryAfterMs', () => {
  it('reads delta seconds and HTTP dates; nothing for what is absent or bad', () => {
    const now = Date.UTC(2026, 10, 23, 8, 0, 0);
    expect(retryAfterMs('3', now)).toBe(3_000);
    expect(retryAfterMs('1.5', now)).toBe(1_500);
    expect(retryAfterMs(new Date(now + 10_000).toUTCString(), now)).toBe(10_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
