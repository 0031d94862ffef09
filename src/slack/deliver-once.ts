/**
 * Each Slack delivery is acted on once, across replicas. A signed request stays valid for Slack's
 * 5-minute window, so a captured slash command or modal submission could be sent again and run
 * again (a cancelled declaration came back in its author's name); and Slack itself redelivers an
 * event it thinks was not acknowledged (at +1 and +5 minutes). So one global middleware, before every
 * listener, remembers interactions by their `trigger_id` and events by their `event_id` in the store
 * (`rememberOnce`: Redis for all replicas) and acks a repeat without running anything.
 *
 * The key is remembered as the delivery arrives, not once it is handled: a delivery whose first
 * copy died with its process is not run by a retry. For events (App Home) that costs a refresh;
 * a command or a submission is never retried by Slack, the person sees the failure and asks again.
 *
 * A slash command or a button click is acked here, before the store is asked: every listener of
 * theirs acks at once with an empty body anyway, so the Redis round trip need not stand between
 * Slack and its 200 (under load it was most of the ack's latency on Redis). The listener's own
 * `ack()` is then a no-op (`ackOnce`). A modal submission still waits: its ack carries the answer.
 */
import type { AckFn, AnyMiddlewareArgs, Middleware, ReceiverEvent } from '@slack/bolt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { RollbackError } from '../lib/errors.js';
import type { Dedup } from '../store/store.js';

/** Longer than the 5 minutes a signed request is accepted for. */
export const TRIGGER_MEMORY_MS = 10 * 60_000;
/** Longer than Slack's last retry of an event (+5 minutes), with room for a slow first delivery. */
export const EVENT_MEMORY_MS = 15 * 60_000;

const id = z.string().min(1).max(256);
/** Only the ids are read here; the listeners parse the rest. */
const deliverySchema = z.object({
  type: z.string().optional(),
  command: z.string().optional(),
  trigger_id: id.optional(),
  event_id: id.optional(),
});

interface Delivery {
  key: string;
  ttlMs: number;
  /** A slash command or a button click: acked before the store is asked. */
  ackFirst: boolean;
}

export function deliveryKey(body: unknown): Delivery | null {
  const parsed = deliverySchema.safeParse(body);
  if (!parsed.success) return null;
  const { type, command, trigger_id: triggerId, event_id: eventId } = parsed.data;
  if (type === 'event_callback' && eventId !== undefined) {
    return { key: `slack-delivery:event:${eventId}`, ttlMs: EVENT_MEMORY_MS, ackFirst: false };
  }
  // Slash commands (no `type`), view submissions, shortcuts and button clicks carry a trigger id.
  if (triggerId !== undefined) {
    const ackFirst = (type === undefined && command !== undefined) || type === 'block_actions';
    return { key: `slack-delivery:trigger:${triggerId}`, ttlMs: TRIGGER_MEMORY_MS, ackFirst };
  }
  return null;
}

/**
 * The delivery as the app receives it, its `ack` made idempotent: once a command or click is acked
 * (by `deliverOnce`), a later empty `ack()` does nothing. An ack with a body after that is a bug (the
 * body would be lost), so it throws as Bolt's second ack does.
 */
export function ackOnce(event: ReceiverEvent): ReceiverEvent {
  let acked = false;
  const ack: AckFn<unknown> = async (response) => {
    if (acked && response === undefined) return;
    acked = true;
    await event.ack(response);
  };
  return { ...event, ack };
}

export function deliverOnce(deps: { store: Dedup; log: Logger }): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const seen = deliveryKey(args.body);
    // Events were acknowledged by Bolt already; everything else waits for an ack.
    const ack = 'ack' in args && typeof args.ack === 'function' ? (args.ack as AckFn<unknown>) : undefined;
    const acked = seen?.ackFirst === true && ack !== undefined;
    if (acked) await ack();
    let first: boolean;
    try {
      first = seen === null || (await deps.store.rememberOnce(seen.key, seen.ttlMs));
    } catch (error) {
      // Nothing can be done without the store, and nothing was: say so before Slack's 3 s are up.
      await refuseUnremembered(args, acked ? undefined : ack, error, deps.log);
      return;
    }
    if (first) {
      await args.next();
      return;
    }
    deps.log.debug({ key: seen?.key }, 'repeated Slack delivery acknowledged and ignored');
    if (!acked) await ack?.();
  };
}

/**
 * Acks a delivery that could not be remembered (`ack`: unless it was acked already) and tells its
 * author why nothing happened.
 */
async function refuseUnremembered(
  args: AnyMiddlewareArgs,
  ack: AckFn<unknown> | undefined,
  error: unknown,
  log: Logger,
): Promise<void> {
  const message =
    error instanceof RollbackError
      ? error.userMessage
      : 'The bot could not record this request, so nothing was changed. Try again in a minute.';
  log.warn({ err: error }, 'a Slack delivery could not be remembered; refused');
  if (args.body.type === 'view_submission') {
    // A modal shows nothing after a bare ack: replace it with the reason.
    await ack?.({ response_action: 'update', view: noticeView(message) });
    return;
  }
  await ack?.();
  if ('respond' in args && typeof args.respond === 'function') {
    await args
      .respond({ response_type: 'ephemeral', replace_original: false, text: message })
      .catch((failure: unknown) => {
        log.warn({ err: failure }, 'could not tell the author that the store is unavailable');
      });
  }
}

function noticeView(message: string): Record<string, unknown> {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'Nothing was changed' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'plain_text', text: message } }],
  };
}
