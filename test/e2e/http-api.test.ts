/** The JSON API and health routes of DESIGN section 9, on the bot's own server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL, PEOPLE, startBotHarness, type BotHarness } from '../support/bot-harness.js';

let h: BotHarness;
let id: string;
const auth = { authorization: 'Bearer e2e-api-token' };
const get = (path: string, headers: Record<string, string> = auth) =>
  fetch(`http://127.0.0.1:${h.port}${path}`, { headers });

beforeAll(async () => {
  h = await startBotHarness();
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text: 'checkout --to v1.4.1',
    expectResponses: 1,
  });
  id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))![0];
});
afterAll(async () => {
  await h.stop();
});

describe('HTTP API', () => {
  it('answers health and readiness without a token', async () => {
    expect((await get('/healthz', {})).status).toBe(200);
    const ready = await get('/readyz', {});
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ok: true, detail: { store: 'ok' } });
  });

  it('refuses the API without the bearer token, or with a wrong one', async () => {
    expect((await get('/api/rollbacks', {})).status).toBe(401);
    expect((await get('/api/rollbacks', { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await get(`/api/rollbacks/${id}`, {})).status).toBe(401);
  });

  it('lists rollbacks by service and state; an unknown service is an empty list', async () => {
    const all = (await (await get('/api/rollbacks')).json()) as { rollbacks: Array<{ id: string }> };
    expect(all.rollbacks.map((r) => r.id)).toEqual([id]);
    const declared = (await (await get('/api/rollbacks?service=checkout&state=declared')).json()) as {
      rollbacks: unknown[];
    };
    expect(declared.rollbacks).toHaveLength(1);
    expect(await (await get('/api/rollbacks?service=nope')).json()).toEqual({ rollbacks: [] });
    expect(await (await get('/api/rollbacks?state=resolved')).json()).toEqual({ rollbacks: [] });
  });

  it('returns one rollback in the contract shape, and 404 for an unknown id', async () => {
    const response = await get(`/api/rollbacks/${id}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id,
      service: 'checkout',
      environment: 'production',
      state: 'declared',
      strategy: 'blue-green',
      fromVersion: null,
      toVersion: 'v1.4.1',
      approvals: [],
      steps: [
        { name: 'Drain blue', status: 'pending', startedAt: null, endedAt: null },
        { name: 'Switch traffic', status: 'pending', startedAt: null, endedAt: null },
      ],
      checks: [
        { name: 'Probe', status: 'pending' },
        { name: 'Smoke-test checkout', status: 'pending' },
      ],
      timeline: [{ event: 'DECLARE', by: PEOPLE.declarer, state: 'declared' }],
    });
    expect(typeof body['incidentStartedAt']).toBe('string');
    expect((await get('/api/rollbacks/rb-nope')).status).toBe(404);
  });
});
