/**
 * IncidentService over the in-memory store: an alert start it cannot believe (more than a day old,
 * or in the future) is replaced by the receive time, told to the sender and logged at warn.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/alerts/alert.js';
import { IncidentService } from '../../../src/app/incident-service.js';
import type { RollbackPlan } from '../../../src/domain/plan.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { standardPolicy, standardStrategy, T0 } from '../../support/domain-fixtures.js';

const plan: RollbackPlan = {
  name: 'checkout',
  service: 'checkout',
  channel: 'C1',
  environments: ['production'],
  criticality: 'high',
  rtoMs: 15 * 60_000,
  authority: 'default',
  defaultStrategy: 'blue-green',
  strategies: { 'blue-green': standardStrategy() },
  triggers: [],
  limitations: [],
};

const firing = (fingerprint: string, startsAt: number): Alert => ({
  source: 'alertmanager',
  fingerprint,
  status: 'firing',
  service: 'checkout',
  environment: 'production',
  labels: { alertname: 'HighLatency', service: 'checkout' },
  annotations: {},
  startsAt,
  endsAt: null,
  summary: 'p99 over 2s',
  url: null,
});

describe('IncidentService and alert starts', () => {
  it('takes the receive time for a 1970 start, notes it for the sender and logs it at warn', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino(
      { level: 'warn' },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const incidents = new IncidentService({
      store: new MemoryStore(),
      catalog: () => ({
        plans: new Map([['checkout', plan]]),
        policies: new Map([['default', standardPolicy()]]),
      }),
      declare: () => Promise.resolve({ ok: false, code: 'refused', message: 'not here' } as const),
      announce: () => undefined,
      now: () => T0,
      newId: () => 'inc-1',
      log,
    });
    const outcome = await incidents.receive({ key: 'k1', alerts: [firing('f1', 0)] });
    expect(outcome.notes).toEqual([
      `alert HighLatency (f1): startsAt 1970-01-01T00:00:00.000Z is more than 24 hours before now (${new Date(T0).toISOString()}); the time it was received stands in`,
    ]);
    expect((await incidents.current('checkout', 'production'))?.startedAt).toBe(T0);
    expect(lines).toMatchObject([
      {
        level: 40,
        incident: 'inc-1',
        fingerprint: 'f1',
        msg: 'alert startsAt not believed: the time it was received stands in for the incident start',
      },
    ]);
    // A redelivery changes nothing, so it notes nothing either.
    expect((await incidents.receive({ key: 'k1', alerts: [firing('f1', 0)] })).notes).toEqual([]);
  });
});
