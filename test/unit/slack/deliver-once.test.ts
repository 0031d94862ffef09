/**
 * The middleware that acts on each Slack delivery once. When the store cannot remember a delivery
 * (Redis away), nothing runs: the delivery is acked at once and its author told why.
 */
import type { AllMiddlewareArgs, AnyMiddlewareArgs } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { ackOnce, deliverOnce } from '../../../src/slack/deliver-once.js';

function argsFor(body: Record<string, unknown>) {
  const seen = { next: 0, acks: [] as unknown[], responses: [] as unknown[] };
  const args = {
    body,
    next: () => {
      seen.next += 1;
      return Promise.resolve();
    },
    ack: (response?: unknown) => {
      seen.acks.push(response);
      return Promise.resolve();
    },
    respond: (message: unknown) => {
      seen.responses.push(message);
      return Promise.resolve();
    },
  };
  return { args: args as unknown as AnyMiddlewareArgs & AllMiddlewareArgs, seen };
}

const storeDown = {
  rememberOnce: () => Promise.reject(new StoreUnavailableError()),
};
const remembered = new Set<string>();
const storeUp = {
  rememberOnce: (key: string) => {
    const first = !remembered.has(key);
    remembered.add(key);
    return Promise.resolve(first);
  },
};

describe('deliverOnce', () => {
  it('runs a delivery once and acks its repeat without running it', async () => {
    const middleware = deliverOnce({ store: storeUp, log: silentLogger });
    const first = argsFor({ trigger_id: 't-1', type: 'block_actions' });
    const again = argsFor({ trigger_id: 't-1', type: 'block_actions' });
    await middleware(first.args);
    await middleware(again.args);
    expect(first.seen.next).toBe(1);
    expect(again.seen).toMatchObject({ next: 0, acks: [undefined] });
  });

  it('acks a click or command the store cannot remember and tells its author nothing changed', async () => {
    const { args, seen } = argsFor({ trigger_id: 't-2', type: 'block_actions' });
    await deliverOnce({ store: storeDown, log: silentLogger })(args);
    expect(seen.next).toBe(0);
    expect(seen.acks).toEqual([undefined]);
    expect(seen.responses).toHaveLength(1);
    expect(seen.responses[0]).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(seen.responses)).toMatch(
      /state store \(Redis\) is unavailable.*nothing was changed/,
    );
  });

  it('replaces a submitted modal with the reason instead of closing it silently', async () => {
    const { args, seen } = argsFor({ trigger_id: 't-3', type: 'view_submission' });
    await deliverOnce({ store: storeDown, log: silentLogger })(args);
    expect(seen.next).toBe(0);
    expect(seen.acks).toHaveLength(1);
    expect(seen.acks[0]).toMatchObject({ response_action: 'update', view: { type: 'modal' } });
    expect(JSON.stringify(seen.acks)).toMatch(/nothing was changed/);
  });

  it('acks a slash command or a click before it asks the store, and runs it once remembered', async () => {
    const acksWhenAsked: number[] = [];
    for (const body of [
      { trigger_id: 't-4', command: '/rollback', text: 'status' },
      { trigger_id: 't-5', type: 'block_actions' },
    ]) {
      const { args, seen } = argsFor(body);
      const store = {
        rememberOnce: (key: string) => {
          acksWhenAsked.push(seen.acks.length);
          return storeUp.rememberOnce(key);
        },
      };
      await deliverOnce({ store, log: silentLogger })(args);
      expect(seen).toMatchObject({ next: 1, acks: [undefined] });
    }
    expect(acksWhenAsked).toEqual([1, 1]);
  });

  it('leaves the ack of a modal submission to its listener (the ack carries the answer)', async () => {
    const { args, seen } = argsFor({ trigger_id: 't-6', type: 'view_submission' });
    await deliverOnce({ store: storeUp, log: silentLogger })(args);
    expect(seen).toMatchObject({ next: 1, acks: [] });
  });
});

describe('ackOnce', () => {
  it('makes a second empty ack a no-op, and lets an ack with a body through to fail as Bolt does', async () => {
    const sent: unknown[] = [];
    const event = ackOnce({
      body: {},
      ack: (response?: unknown) => {
        if (sent.length > 0) return Promise.reject(new Error('acked twice'));
        sent.push(response);
        return Promise.resolve();
      },
    });
    await event.ack();
    await event.ack();
    expect(sent).toEqual([undefined]);
    await expect(event.ack({ response_action: 'clear' })).rejects.toThrow('acked twice');
  });
});
