/**
 * Stakeholder messages kept in the store until their target takes them: a status page or SNS that
 * is down for the whole rollback gets every message when it is back, in order, once, even if every
 * replica restarted meanwhile.
 *
 * Why a store of its own and not the engine's outbox: the outbox is the rollback's own record (only a
 * committed transition adds to it), it gives an effect up after ten deliveries, retries without
 * backoff, and lets a later effect overtake a failing one. A stakeholder message needs the opposite:
 * waiting for as long as an outage lasts, in order per destination, paced by the destination's rate
 * limit (Statuspage: one request per second per API key, across all replicas). So the `notify`
 * effect is acknowledged once its stakeholder messages are written here, and this module sends them.
 *
 * The design is the smallest that gives all that with what the store already has:
 * - One document per lane (`COLLECTIONS.stakeholderOutbox`, key `<kind>:<lane>`): a lane is what must be sent in order
 *   and paced as one (a Statuspage API key, an SNS topic, a Slack channel). It holds the messages
 *   waiting, oldest first, and the ids recently done, so a redelivered effect adds nothing. Every
 *   write is guarded by the document's version.
 * - One sender per lane across replicas: a lease (`stakeholder-lane:<lane>`) taken before sending
 *   and renewed while held. The head is removed only after its target answered, so a sender that
 *   dies leaves it for the next one; the targets' own once-records (`once`, the status page's
 *   incident document) make that rare repeat harmless.
 * - A message the target refuses for good (a 4xx, a channel that is gone) is given up and said in
 *   the thread; one that fails for a while (no answer, 5xx, 429) stays at the head with a backoff
 *   (or the server's Retry-After), and the lane's outage is said ONCE per rollback thread, then its
 *   end. A message older than `maxAgeMs` is given up: its news is stale.
 *
 * Each replica polls the lanes (one `listDocs`) every `pollMs`; a message added in this process is
 * sent at once. Time here is the wall clock: it measures whether a server answers, not the
 * rollback's timeline.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { formatDuration } from '../domain/duration.js';
import type { Logger } from '../lib/logging.js';
import { Sleeper } from '../lib/sleeper.js';
import { escapeMrkdwn } from '../slack/blocks/text.js';
import { changeDoc } from '../store/change-doc.js';
import { COLLECTIONS } from '../store/collections.js';
import { doOnce } from '../store/once.js';
import type { Docs, Leases } from '../store/store.js';
import type { StakeholderRegistry } from './target-registry.js';
import type { NoticeSubject, SendOutcome, StakeholderTarget } from './target.js';

const COLLECTION = COLLECTIONS.stakeholderOutbox;
/** The `once` records of the targets that use them (`<effectId>:<part>`, as before lanes existed). */
const POSTED = COLLECTIONS.stakeholderPosts;
/** Ids of messages done (sent, skipped, given up) kept per lane, so a redelivered effect adds nothing. */
const DONE_KEPT = 200;
const WRITE_TRIES = 20;
/** Failed tries of a lane's head before its outage is said in the threads (a blip is not news). */
const REPORT_AFTER_ATTEMPTS = 3;

/** Whose thread hears about a message: the rollback's (an incident without one is only logged). */
export type ReportSubject = Pick<NoticeSubject, 'kind' | 'id'>;

const subjectSchema = z.object({ kind: z.enum(['rollback', 'incident']), id: z.string() });

const storedMessage = z.object({
  /** `<effectId>:<part>`: unique per message, stable across redeliveries. */
  id: z.string(),
  subject: subjectSchema,
  /** The target's own message, read back with its schema. */
  body: z.unknown(),
  /** When it was first kept (wall clock). */
  at: z.number(),
});
type StoredMessage = z.infer<typeof storedMessage>;

const laneDoc = z.object({
  /** The target kind whose messages these are. */
  target: z.string(),
  messages: z.array(storedMessage),
  done: z.array(z.string()),
  /** Failed tries of the head. */
  attempts: z.number().int().nonnegative(),
  /** The head is not tried before this. */
  retryAt: z.number(),
  /** When the lane's last request ended, for the target's spacing. */
  lastRequestAt: z.number().optional(),
  /** Since when the head keeps failing, and the threads (`kind:id`) told so. */
  outage: z.object({ since: z.number(), reason: z.string(), told: z.array(z.string()) }).optional(),
});
type LaneDoc = z.infer<typeof laneDoc>;

export interface StakeholderOutboxOptions {
  store: Docs & Leases;
  registry: StakeholderRegistry;
  /** Posts a line (mrkdwn, foreign text escaped) in the subject's thread. */
  report: (subject: ReportSubject, message: string) => void;
  log: Logger;
  /** Names this process's leases (default host, pid and a random suffix). */
  owner?: string;
  /** First retry delay, doubled each failed try (default 1 s). */
  baseDelayMs?: number;
  /** Longest retry delay (default 30 s); a `Retry-After` may ask for more, up to `maxAgeMs`. */
  maxDelayMs?: number;
  /** A message waiting longer is given up (default 24 h). */
  maxAgeMs?: number;
  /** Messages waiting per lane; beyond, the oldest is given up (default 500). */
  maxWaiting?: number;
  /** How often the lanes are looked at for what other replicas (or a dead process) left (default 1 s). */
  pollMs?: number;
  now?: () => number;
  /** Resolves after `ms`, or early when `signal` aborts; never rejects. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** For the backoff's jitter, in [0, 1). */
  random?: () => number;
}

/** One message a target hands over: kept under `lane` as `<effectId>:<part>`. */
export interface KeptMessage {
  lane: string;
  id: string;
  body: unknown;
}

const realSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  delay(ms, undefined, { signal }).catch(() => undefined);

/** `Retry-After` as milliseconds from `now`: delta seconds or an HTTP date; undefined when absent or bad. */
export function retryAfterMs(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1_000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export class StakeholderOutbox {
  private readonly store: Docs & Leases;
  private readonly log: Logger;
  private readonly owner: string;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxAgeMs: number;
  private readonly maxWaiting: number;
  private readonly pollMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  /** Held while sending and renewed; longer than a request with its retries inside the client. */
  private readonly leaseTtlMs: number;
  /** Lanes being sent from this process, and whether one was asked for again meanwhile. */
  private readonly running = new Map<string, { again: boolean; done: Promise<void> }>();
  private readonly stopping = new AbortController();
  private readonly aborted = new AbortController();
  private readonly sleeper = new Sleeper();
  private loop: Promise<void> | undefined;

  constructor(private readonly options: StakeholderOutboxOptions) {
    this.store = options.store;
    this.log = options.log;
    this.owner = options.owner ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.baseDelayMs = options.baseDelayMs ?? 1_000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.maxAgeMs = options.maxAgeMs ?? 24 * 60 * 60_000;
    this.maxWaiting = Math.max(1, options.maxWaiting ?? 500);
    this.pollMs = options.pollMs ?? 1_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.leaseTtlMs = 60_000;
  }

  /**
   * Keeps a notice's messages of one target, each lane's in the order given, and starts sending them
   * here. A message already kept or done (a redelivered effect) is not added again. Rejects only when
   * the store could not be written: nothing was kept, and the caller's effect must be delivered again.
   */
  async keep(target: StakeholderTarget, subject: ReportSubject, messages: readonly KeptMessage[]) {
    const lanes = new Map<string, KeptMessage[]>();
    for (const message of messages) {
      const lane = `${target.kind}:${message.lane}`;
      lanes.set(lane, [...(lanes.get(lane) ?? []), message]);
    }
    for (const [lane, list] of lanes) {
      let dropped: StoredMessage[] = [];
      const at = this.now();
      await this.change(lane, (current) => {
        const doc = current ?? { target: target.kind, messages: [], done: [], attempts: 0, retryAt: 0 };
        const known = new Set([...doc.done, ...doc.messages.map((m) => m.id)]);
        const added = list
          .filter((m) => !known.has(m.id))
          .map((m) => ({ id: m.id, subject: { kind: subject.kind, id: subject.id }, body: m.body, at }));
        if (added.length === 0) return undefined;
        const waiting = [...doc.messages, ...added];
        const over = Math.max(0, waiting.length - this.maxWaiting);
        dropped = waiting.slice(0, over);
        const kept = waiting.slice(over);
        // The head changed: its tries start again.
        const headGone = over > 0 && doc.messages.length > 0;
        return {
          ...doc,
          messages: kept,
          done: keepDone(
            doc.done,
            dropped.map((m) => m.id),
          ),
          ...(headGone ? { attempts: 0, retryAt: 0 } : {}),
        };
      });
      for (const message of dropped) {
        this.giveUp(target, message, `${this.maxWaiting} newer messages were waiting`);
      }
      this.kick(lane);
    }
  }

  /** Starts looking at the lanes every `pollMs` (what other replicas or a dead process left). */
  start(): void {
    this.loop ??= this.poll();
  }

  /**
   * Stops sending: waits up to `graceMs` for the lanes being sent, then aborts them. What was not
   * sent stays in the store for the next process (or another replica).
   */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopping.abort();
    this.sleeper.wake();
    await this.loop;
    const timedOut = await Promise.race([
      this.idle().then(() => false),
      delay(graceMs, true, { ref: false }),
    ]);
    if (timedOut) {
      this.aborted.abort();
      await this.idle();
    }
  }

  /** Resolves once no lane is being sent from this process. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** The messages waiting in a lane (`<kind>:<lane>`), oldest first: for operators and tests. */
  async waiting(lane: string): Promise<string[]> {
    return (await this.read(lane))?.value.messages.map((m) => m.id) ?? [];
  }

  private async poll(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const mark = this.sleeper.mark();
      try {
        const now = this.now();
        for (const { key, value } of await this.store.listDocs<unknown>(COLLECTION)) {
          const parsed = laneDoc.safeParse(value);
          if (!parsed.success || parsed.data.messages.length === 0) continue;
          // A lane that is waiting out a backoff is taken up again only when it is due.
          if (parsed.data.retryAt <= now) this.kick(key);
        }
      } catch (error) {
        this.log.warn({ err: error }, 'stakeholder outbox could not be read; retrying');
      }
      await this.sleeper.sleep(this.pollMs, mark);
    }
  }

  /** Sends the lane from here, unless this process already is (then it looks once more). */
  private kick(lane: string): void {
    if (this.stopping.signal.aborted) return;
    const running = this.running.get(lane);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false, done: Promise.resolve() };
    // Read through a function: it changes while `drain` awaits.
    const askedAgain = (): boolean => state.again && !this.stopping.signal.aborted;
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await this.drain(lane);
        } while (askedAgain());
      } catch (error) {
        this.log.warn({ err: error, lane }, 'stakeholder lane could not be sent; it will be tried again');
      } finally {
        this.running.delete(lane);
      }
    })();
    this.running.set(lane, state);
  }

  /** Sends the lane's messages one by one while this process holds its lease. */
  private async drain(lane: string): Promise<void> {
    const lease = `stakeholder-lane:${lane}`;
    if ((await this.store.acquireLease(lease, this.owner, this.leaseTtlMs)) === null) return;
    try {
      for (;;) {
        if (this.stopping.signal.aborted) return;
        const doc = (await this.read(lane))?.value;
        const head = doc?.messages[0];
        if (!doc || !head) return;
        const target = this.options.registry.get(doc.target);
        const stale = this.now() - head.at > this.maxAgeMs;
        if (!target && !stale) {
          // Its client is not configured in this process (no key, no publisher): another replica's
          // may be. Left for it, until the message is too old for anyone.
          return;
        }
        if (!target) {
          this.log.warn({ lane, message: head.id }, 'stakeholder message given up: no process can send it');
          await this.settle(lane, head, {
            kind: 'refused',
            message: `no ${doc.target} target is configured`,
          });
          continue;
        }
        if (stale) {
          await this.settle(lane, head, {
            kind: 'refused',
            message: `it waited more than ${formatDuration(this.maxAgeMs)}`,
          });
          continue;
        }
        const due = Math.max(doc.retryAt, (doc.lastRequestAt ?? 0) + target.spacingMs);
        if (due > this.now()) {
          if (!(await this.pause(lease, due - this.now()))) return;
          continue;
        }
        if (!(await this.store.renewLease(lease, this.owner, this.leaseTtlMs))) return;
        await this.sendHead(lane, target, doc, head);
      }
    } finally {
      await this.store.releaseLease(lease, this.owner).catch(() => undefined);
    }
  }

  private async sendHead(
    lane: string,
    target: StakeholderTarget,
    doc: LaneDoc,
    head: StoredMessage,
  ): Promise<void> {
    const parsed = target.body.safeParse(head.body);
    if (!parsed.success) {
      this.log.warn({ lane, message: head.id, error: parsed.error.message }, 'stored message unreadable');
      await this.settle(lane, head, { kind: 'refused', message: 'the kept message could not be read' });
      return;
    }
    const request = { sent: false };
    let outcome: SendOutcome;
    try {
      outcome = await target.send(parsed.data, {
        signal: this.aborted.signal,
        ready: () => {
          request.sent = true;
          return Promise.resolve();
        },
        once: (work) =>
          doOnce(this.store, POSTED, head.id, async () => {
            await work();
            return true;
          }),
      });
    } catch (error) {
      outcome = { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
    }
    const fields = { lane, message: head.id, attempt: doc.attempts + 1 };
    if (outcome.kind === 'failed' || outcome.kind === 'busy') {
      this.log.info({ ...fields, outcome }, 'stakeholder message not sent yet; retrying later');
    } else if (outcome.kind === 'refused') {
      this.log.warn({ ...fields, error: outcome.message }, 'stakeholder message refused; given up');
    }
    await this.settle(lane, head, outcome, request.sent ? this.now() : undefined);
  }

  /** Writes what one try of the head came to, then says in the threads what they must hear. */
  private async settle(
    lane: string,
    head: StoredMessage,
    outcome: SendOutcome,
    requestEnded?: number,
  ): Promise<void> {
    const target = this.options.registry.get(laneTarget(lane));
    let tell: Array<() => void> = [];
    await this.change(lane, (doc) => {
      tell = [];
      // Only the head this try was about: another sender may have moved on meanwhile.
      if (!doc || doc.messages[0]?.id !== head.id) return undefined;
      const requested = requestEnded === undefined ? {} : { lastRequestAt: requestEnded };
      if (outcome.kind === 'failed' || outcome.kind === 'busy') {
        const attempts = outcome.kind === 'busy' ? doc.attempts : doc.attempts + 1;
        const wait = outcome.kind === 'busy' ? this.baseDelayMs : this.retryDelay(attempts, outcome);
        const next: LaneDoc = { ...doc, ...requested, attempts, retryAt: this.now() + wait };
        if (outcome.kind === 'busy') return next;
        const outage = doc.outage ?? { since: this.now(), reason: outcome.message, told: [] };
        const untold =
          attempts < REPORT_AFTER_ATTEMPTS
            ? []
            : unique(doc.messages.map((m) => m.subject)).filter((s) => !outage.told.includes(subjectKey(s)));
        if (target) {
          tell = untold.map((subject) => () => {
            this.options.report(
              subject,
              `${labelOf(target, head.body)} is not answering (${escapeMrkdwn(outcome.message)}). ` +
                'Its messages are kept and will be sent, in order, when it answers again. ' +
                'The rollback is not affected.',
            );
          });
        }
        return {
          ...next,
          outage: { ...outage, reason: outcome.message, told: [...outage.told, ...untold.map(subjectKey)] },
        };
      }
      const { outage, ...rest } = doc;
      const next: LaneDoc = {
        ...rest,
        ...requested,
        messages: doc.messages.slice(1),
        done: keepDone(doc.done, [head.id]),
        attempts: 0,
        retryAt: 0,
      };
      if (outcome.kind === 'refused') {
        tell.push(() => {
          this.giveUp(target ?? laneTarget(lane), head, outcome.message);
        });
      }
      // A refusal or a skip says nothing about the outage; an answer ends it.
      if (outcome.kind !== 'sent') return outage ? { ...next, outage } : next;
      if (outage && target) {
        const label = labelOf(target, head.body);
        for (const key of outage.told) {
          const subject = subjectOf(key);
          tell.push(() => {
            this.options.report(
              subject,
              `${label} answers again: the messages kept for it are being sent, in order.`,
            );
          });
        }
      }
      return next;
    });
    for (const say of tell) say();
  }

  /** Says it in the thread: in the target's words, or plainly when it is unknown here (its kind). */
  private giveUp(target: StakeholderTarget | string, message: StoredMessage, reason: string): void {
    const kind = typeof target === 'string' ? target : target.kind;
    this.log.warn({ target: kind, message: message.id, reason }, 'stakeholder message given up');
    const body = typeof target === 'string' ? undefined : target.body.safeParse(message.body);
    this.options.report(
      message.subject,
      body?.success && typeof target !== 'string'
        ? target.failure(body.data, escapeMrkdwn(reason))
        : `A ${kind} message could not be sent: ${escapeMrkdwn(reason)}. The rollback is not affected.`,
    );
  }

  /** Sleeps up to `ms` in slices, renewing the lease; false when it was lost or the outbox stops. */
  private async pause(lease: string, ms: number): Promise<boolean> {
    const slice = this.leaseTtlMs / 3;
    for (let left = ms; left > 0; left -= slice) {
      await this.sleep(Math.min(left, slice), this.stopping.signal);
      if (this.stopping.signal.aborted) return false;
      if (!(await this.store.renewLease(lease, this.owner, this.leaseTtlMs))) return false;
    }
    return true;
  }

  /** Exponential backoff with jitter, or the server's `Retry-After` when it asks for longer. */
  private retryDelay(attempts: number, outcome: { retryAfterMs?: number | undefined }): number {
    const backoff = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempts - 1));
    const jittered = Math.round(backoff / 2 + (this.random() * backoff) / 2);
    return Math.min(this.maxAgeMs, Math.max(jittered, outcome.retryAfterMs ?? 0));
  }

  private async read(lane: string): Promise<{ version: number; value: LaneDoc } | null> {
    const doc = await this.store.getDoc<unknown>(COLLECTION, lane);
    if (!doc) return null;
    const parsed = laneDoc.safeParse(doc.value);
    if (parsed.success) return { version: doc.version, value: parsed.data };
    // Unreadable (written by a newer release?): left alone rather than overwritten.
    this.log.error({ lane, error: parsed.error.message }, 'stakeholder lane unreadable; left as it is');
    return null;
  }

  /** Read, change, write guarded by the version; `change` returning undefined writes nothing. */
  private async change(lane: string, change: (doc: LaneDoc | undefined) => LaneDoc | undefined) {
    await changeDoc<unknown>(
      this.store,
      COLLECTION,
      lane,
      (current) => {
        const parsed = current === null ? undefined : laneDoc.safeParse(current);
        if (parsed && !parsed.success) throw new Error(`stakeholder lane ${lane} is unreadable`);
        return change(parsed?.data) ?? null;
      },
      WRITE_TRIES,
    );
  }
}

/** Where the target sends this message, as the thread names it. */
function labelOf(target: StakeholderTarget, body: unknown): string {
  const parsed = target.body.safeParse(body);
  return parsed.success ? target.label(parsed.data) : `The ${target.kind} target`;
}

function keepDone(done: readonly string[], more: readonly string[]): string[] {
  return [...done, ...more].slice(-DONE_KEPT);
}

const laneTarget = (lane: string): string => lane.slice(0, lane.indexOf(':'));
const subjectKey = (subject: ReportSubject): string => `${subject.kind}:${subject.id}`;

function subjectOf(key: string): ReportSubject {
  const colon = key.indexOf(':');
  return { kind: key.slice(0, colon) === 'incident' ? 'incident' : 'rollback', id: key.slice(colon + 1) };
}

function unique(subjects: readonly ReportSubject[]): ReportSubject[] {
  const seen = new Map(subjects.map((s) => [subjectKey(s), s]));
  return [...seen.values()];
}
