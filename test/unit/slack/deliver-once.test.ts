/**
 * The middleware that acts on each Slack delivery once. When the store cannot remember a delivery
 * (Redis away), nothing runs: the delivery is acked at once and its author told why.
 */
import type { AllMiddlewareArgs, AnyMiddlewareArgs } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../../src/lib/errors.js';
import { silentLogger } from '../../../src/lib/logging.js';
import { deliverOnce } from '../../../src/slack/deliver-once.js';

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
});
