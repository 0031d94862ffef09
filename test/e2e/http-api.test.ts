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
    expect(await (await get('/api/rollbacks', {})).json()).toEqual({
      error: { code: 'unauthorized', message: 'a valid bearer token (API_TOKEN) is required' },
    });
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
    const missing = await get('/api/rollbacks/rb-nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'no rollback rb-nope' } });
  });
});

describe('deployments and the freeze', () => {
  const post = (
    body: unknown,
    headers: Record<string, string> = { ...auth, 'content-type': 'application/json' },
  ) =>
    fetch(`http://127.0.0.1:${h.port}/api/deployments`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });

  it('records deployments, and a declaration without --to rolls back to the previous one', async () => {
    const first = await post({
      service: 'checkout',
      environment: 'staging',
      version: 'v2.0.0',
      commit: 'abc123',
      by: 'ci',
      at: new Date(h.clock.now - 3_600_000).toISOString(),
    });
    expect(first.status).toBe(201);
    expect((await post({ service: 'checkout', environment: 'staging', version: 'v2.1.0' })).status).toBe(201);
    const command = await h.driver.slashCommand({
      user: PEOPLE.declarer,
      channel: CHANNEL,
      text: 'checkout --env staging',
      expectResponses: 1,
    });
    const stagingId = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))![0];
    const view = (await (await get(`/api/rollbacks/${stagingId}`)).json()) as {
      fromVersion: string;
      toVersion: string;
    };
    expect(view).toMatchObject({ fromVersion: 'v2.1.0', toVersion: 'v2.0.0' });
  });

  it('refuses bad deployment bodies with the reason, and requests without the token', async () => {
    const missing = await post({ service: 'checkout', version: 'v1' });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('environment');
    expect(
      (await post({ service: 'checkout', environment: 'production', version: 'v1', extra: 1 })).status,
    ).toBe(400);
    expect(
      (
        await post(
          { service: 'checkout', environment: 'production', version: 'v1' },
          { 'content-type': 'application/json' },
        )
      ).status,
    ).toBe(401);
    expect((await post('x', { ...auth, 'content-type': 'text/plain' })).status).toBe(415);
  });

  it('refuses a version that is not one, with the rule, and records nothing', async () => {
    const attack = await post({ service: 'checkout', environment: 'production', version: '--log-file=x' });
    expect(attack.status).toBe(400);
    expect(await attack.json()).toEqual({
      error: {
        code: 'bad_request',
        message:
          "version: a version is letters, digits and . _ + - (at most 128, starting with a letter or digit): '--log-file=x' starts with '-'",
      },
    });
    const path = await post({ service: 'checkout', environment: 'production', version: 'v1/../../admin' });
    expect(path.status).toBe(400);
    expect(await path.text()).toContain("has '/'");
    const bidi = await post({ service: 'checkout', environment: 'production', version: 'v1\u202E' });
    expect(bidi.status).toBe(400);
    expect(await bidi.text()).toContain('(a bidirectional formatting character)');
    const by = await post({
      service: 'checkout',
      environment: 'production',
      version: 'v1',
      by: 'ci\u202Eadmin',
    });
    expect(by.status).toBe(400);
    expect(await by.json()).toEqual({
      error: { code: 'bad_request', message: 'by: has \\u202E (a bidirectional formatting character)' },
    });
    expect(await h.store.listDeployments('checkout', 'production')).toEqual([]);
  });

  it('believes a deployment time only within a day back and a minute ahead', async () => {
    const at = (offsetMs: number) => new Date(h.clock.now + offsetMs).toISOString();
    const future = await post({
      service: 'checkout',
      environment: 'production',
      version: 'v9',
      at: '2999-01-01T00:00:00Z',
    });
    expect(future.status).toBe(400);
    expect(((await future.json()) as { error: unknown }).error).toEqual({
      code: 'bad_request',
      message: expect.stringMatching(
        /^at: 2999-01-01T00:00:00.000Z is in the future \(more than 60 seconds after now, .*\); a deployment is recorded within 24 hours of happening \(leave out at for now\)$/,
      ) as string,
    });
    const old = await post({
      service: 'checkout',
      environment: 'production',
      version: 'v8',
      at: at(-25 * 3_600_000),
    });
    expect(old.status).toBe(400);
    expect(await old.text()).toContain('is more than 24 hours before now');
    expect(await h.store.listDeployments('checkout', 'production')).toEqual([]);
    // A pipeline clock a little ahead of the bot's, and a deployment recorded late the same day, are fine.
    expect(
      (await post({ service: 'checkout', environment: 'production', version: 'v7', at: at(30_000) })).status,
    ).toBe(201);
    expect(
      (await post({ service: 'checkout', environment: 'production', version: 'v6', at: at(-23 * 3_600_000) }))
        .status,
    ).toBe(201);
    expect((await h.store.listDeployments('checkout', 'production')).map((d) => d.version)).toEqual([
      'v7',
      'v6',
    ]);
  });

  it('answers the freeze from the active rollback', async () => {
    expect(await (await get('/api/freeze?service=checkout&environment=production')).json()).toEqual({
      frozen: true,
      reason: `rollback ${id} is declared`,
      rollbackId: id,
    });
    expect(await (await get('/api/freeze?service=other')).json()).toEqual({ frozen: false });
    expect((await get('/api/freeze')).status).toBe(400);
    expect((await get('/api/freeze?service=checkout', {})).status).toBe(401);
  });
});
