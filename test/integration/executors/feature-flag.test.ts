import { afterEach, describe, expect, it } from 'vitest';
import { featureFlagExecutor } from '../../../src/executors/feature-flag/index.js';
import { prepareParams } from '../../../src/executors/render-params.js';
import type { StepTarget } from '../../../src/executors/executor.js';
import { targetLine } from '../../../src/domain/step-target.js';
import { reply, startPeer, stepContext, type HttpPeer, type PeerHandler } from '../../support/http-peer.js';
import { fakeLaunchDarkly, fakeUnleash, flagTable } from '../../support/fake-flags.js';

let peer: HttpPeer | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

async function serve(handler: PeerHandler): Promise<HttpPeer> {
  peer = await startPeer(handler);
  return peer;
}

const TOKEN = 'user:4f1c0ffee-s3cret';

/**
 * Runs the executor as the step performer does: templates filled, the parameters checked with the
 * executor's schema, then `${env:...}` secrets put in.
 */
function prepared(params: Record<string, unknown>) {
  const result = prepareParams(featureFlagExecutor.params, params, stepContext().ctx.vars, {
    FLAG_TOKEN: TOKEN,
  });
  if (!result.ok) throw new Error(result.error);
  return result.params;
}

/** `target`: the one recorded when the step first resolved, as the engine gives it to every attempt. */
async function run(params: Record<string, unknown>, signal?: AbortSignal, target?: StepTarget) {
  const { ctx, lines, warnings } = stepContext(signal);
  const result = await featureFlagExecutor.run(
    target === undefined ? ctx : { ...ctx, target },
    prepared(params),
  );
  const said = [...lines, ...warnings, JSON.stringify(result)].join('\n');
  expect(said).not.toContain(TOKEN);
  return { result, lines };
}

const never: PeerHandler = () => undefined;

describe('feature-flag executor: unleash', () => {
  const unleash = (url: string, extra: Record<string, unknown> = {}) => ({
    provider: 'unleash',
    url,
    token: '${env:FLAG_TOKEN}',
    environment: 'production',
    flag: 'new-checkout',
    ...extra,
  });

  it('POSTs the admin toggle-off for the environment in the default project, token as Authorization', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 200);
    });
    const { result, lines } = await run(unleash(url));
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      method: 'POST',
      path: '/api/admin/projects/default/features/new-checkout/environments/production/off',
      body: '',
    });
    expect(requests[0]!.headers['authorization']).toBe(TOKEN);
    expect(result).toEqual({
      outcome: 'succeeded',
      output: { provider: 'unleash', flag: 'new-checkout', environment: 'production', status: 200 },
      summary: 'Unleash: flag "new-checkout" turned off in production',
    });
    expect(lines[0]).toBe(
      `turning Unleash flag "new-checkout" off in production: POST ${url}/api/admin/projects/default/features/new-checkout/environments/production/off`,
    );
  });

  it('takes a base URL ending in /api, a project, enabled: true, and accepts 202', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 202);
    });
    const { result } = await run(unleash(`${url}/api/`, { project: 'shop', enabled: true }));
    expect(requests[0]!.path).toBe(
      '/api/admin/projects/shop/features/new-checkout/environments/production/on',
    );
    expect(result).toMatchObject({ outcome: 'succeeded', output: { status: 202 } });
  });

  it.each([
    [401, 'Unleash refused the API token (401)'],
    [403, 'Unleash: the API token may not change flag "new-checkout" (403): {"message":"no permission"}'],
    [
      404,
      'Unleash has no flag "new-checkout" in project "default" and environment "production" (404): {"message":"no permission"}',
    ],
  ])('fails plainly on %i', async (status, error) => {
    const { url } = await serve((_req, res) => {
      reply(res, status, status === 401 ? '' : { message: 'no permission' });
    });
    expect((await run(unleash(url))).result).toEqual({
      outcome: 'failed',
      error,
      output: { provider: 'unleash', flag: 'new-checkout', environment: 'production', status },
    });
  });

  it('does not take a 204 as Unleash success (it answers 200 or 202)', async () => {
    const { url } = await serve((_req, res) => {
      reply(res, 204);
    });
    expect((await run(unleash(url))).result).toMatchObject({
      outcome: 'failed',
      error: `Unleash answered 204 No Content to POST ${url}/api/admin/projects/default/features/new-checkout/environments/production/off`,
    });
  });
});

describe('feature-flag executor: launchdarkly', () => {
  const ld = (url: string, extra: Record<string, unknown> = {}) => ({
    provider: 'launchdarkly',
    url,
    token: '${env:FLAG_TOKEN}',
    projectKey: 'shop',
    environment: 'production',
    flag: 'new-checkout',
    ...extra,
  });

  it('PATCHes a semantic patch turnFlagOff with a comment naming the rollback', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 200, { key: 'new-checkout', environments: { production: { on: false } } });
    });
    const { result } = await run(ld(url));
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: 'PATCH', path: '/api/v2/flags/shop/new-checkout' });
    expect(requests[0]!.headers).toMatchObject({
      authorization: TOKEN,
      'content-type': 'application/json; domain-model=launchdarkly.semanticpatch',
    });
    expect(JSON.parse(requests[0]!.body)).toEqual({
      environmentKey: 'production',
      instructions: [{ kind: 'turnFlagOff' }],
      comment: 'rollback-bot: rollback rb-1 of checkout (production)',
    });
    expect(result).toEqual({
      outcome: 'succeeded',
      output: { provider: 'launchdarkly', flag: 'new-checkout', environment: 'production', status: 200 },
      summary: 'LaunchDarkly: flag "new-checkout" turned off in production',
    });
  });

  it('turns the flag on with enabled: true', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 200, {});
    });
    await run(ld(url, { enabled: true }));
    expect(JSON.parse(requests[0]!.body)).toMatchObject({ instructions: [{ kind: 'turnFlagOn' }] });
  });

  it.each([
    [
      401,
      { code: 'unauthorized', message: 'Invalid account ID header' },
      'LaunchDarkly refused the API key (401)',
    ],
    [
      403,
      { code: 'forbidden', message: 'Access to the requested resource was denied' },
      'LaunchDarkly: the API key may not change flag "new-checkout" (403): {"code":"forbidden","message":"Access to the requested resource was denied"}',
    ],
    [
      404,
      { code: 'not_found', message: 'Unknown flag' },
      'LaunchDarkly has no flag "new-checkout" in project "shop" (404): {"code":"not_found","message":"Unknown flag"}',
    ],
    [
      400,
      { code: 'invalid_request', message: 'unknown environment' },
      'LaunchDarkly answered 400 Bad Request to PATCH {url}/api/v2/flags/shop/new-checkout: {"code":"invalid_request","message":"unknown environment"}',
    ],
  ])('fails plainly on %i', async (status, body, error) => {
    const { url } = await serve((_req, res) => {
      reply(res, status, body);
    });
    expect((await run(ld(url))).result).toMatchObject({
      outcome: 'failed',
      error: error.replace('{url}', url),
    });
  });
});

describe('feature-flag executor: generic http', () => {
  it('sends {flag, enabled, environment} as JSON with the token as a bearer', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 204);
    });
    const { result } = await run({
      provider: 'http',
      method: 'PUT',
      url: `${url}/flags/set`,
      token: '${env:FLAG_TOKEN}',
      environment: 'production',
      flag: 'new-checkout',
    });
    expect(requests[0]).toMatchObject({ method: 'PUT', path: '/flags/set' });
    expect(requests[0]!.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
    });
    expect(JSON.parse(requests[0]!.body)).toEqual({
      flag: 'new-checkout',
      enabled: false,
      environment: 'production',
    });
    expect(result).toEqual({
      outcome: 'succeeded',
      output: { provider: 'http', flag: 'new-checkout', environment: 'production', status: 204 },
      summary: 'the flag endpoint: flag "new-checkout" turned off in production',
    });
  });

  it('POSTs by default, without Authorization when no token is given, and fails on a 5xx', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 503, 'flag store unavailable');
    });
    const { result } = await run({ provider: 'http', url, flag: 'f' });
    expect(requests[0]!.method).toBe('POST');
    expect(requests[0]!.headers['authorization']).toBeUndefined();
    expect(JSON.parse(requests[0]!.body)).toEqual({ flag: 'f', enabled: false, environment: null });
    expect(result).toEqual({
      outcome: 'failed',
      error: `the flag endpoint answered 503 Service Unavailable to POST ${url}: flag store unavailable`,
      output: { provider: 'http', flag: 'f', environment: null, status: 503 },
    });
  });
});

describe('feature-flag executor: time limits', () => {
  it('fails when the provider does not answer within the timeout, saying the state is unknown', async () => {
    const { url } = await serve(never);
    const started = performance.now();
    const { result } = await run({
      provider: 'unleash',
      url,
      token: '${env:FLAG_TOKEN}',
      environment: 'production',
      flag: 'new-checkout',
      timeout: '300ms',
    });
    expect(result).toEqual({
      outcome: 'failed',
      error: `Unleash did not answer within 300ms (POST ${url}/api/admin/projects/default/features/new-checkout/environments/production/off); the flag may or may not be off`,
    });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('stops promptly when the rollback is cancelled', async () => {
    const { url } = await serve(never);
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 100);
    const started = performance.now();
    const { result } = await run(
      {
        provider: 'launchdarkly',
        url,
        token: '${env:FLAG_TOKEN}',
        projectKey: 'shop',
        environment: 'production',
        flag: 'new-checkout',
      },
      controller.signal,
    );
    expect(result).toMatchObject({ outcome: 'failed' });
    expect(result.outcome === 'failed' && result.error).toMatch(/was stopped \(rollback cancelled/);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('feature-flag parameters', () => {
  it('plans must name the token as ${env:NAME}; the secret is put in after the check', () => {
    const params = {
      provider: 'unleash',
      url: 'https://unleash.example.com',
      token: TOKEN,
      environment: 'production',
      flag: 'f',
    };
    expect(featureFlagExecutor.params.safeParse(params).success).toBe(false);
    const prepared = prepareParams(
      featureFlagExecutor.params,
      { ...params, token: '${env:FLAG_TOKEN}' },
      stepContext().ctx.vars,
      {
        FLAG_TOKEN: TOKEN,
      },
    );
    expect(prepared).toMatchObject({ ok: true, params: { token: TOKEN }, secrets: [TOKEN] });
  });
});

describe('feature-flag resolve: the flag read without changing it, then converged on', () => {
  const unleash = (url: string, extra: Record<string, unknown> = {}) => ({
    provider: 'unleash',
    url,
    token: '${env:FLAG_TOKEN}',
    environment: 'production',
    flag: 'checkout-new-flow',
    ...extra,
  });
  const ld = (url: string, extra: Record<string, unknown> = {}) => ({
    provider: 'launchdarkly',
    url,
    token: '${env:FLAG_TOKEN}',
    projectKey: 'shop',
    environment: 'production',
    flag: 'checkout-new-flow',
    ...extra,
  });

  async function resolve(params: Record<string, unknown>) {
    const resolution = await featureFlagExecutor.resolve!(
      {
        signal: new AbortController().signal,
        toVersion: null,
        rollback: { id: 'rb-1', service: 'checkout', environment: 'production' },
      },
      prepared(params),
    );
    expect(JSON.stringify(resolution)).not.toContain(TOKEN);
    return resolution;
  }

  const flagTarget = (object: string, from: 'on' | 'off', to: 'on' | 'off'): StepTarget => ({
    object,
    current: { revision: from, images: [] },
    target: { revision: to, images: [] },
    pin: { from, to },
  });

  it('Unleash: names the state now and the one the step sets, with one GET and no write', async () => {
    const fake = fakeUnleash(
      TOKEN,
      flagTable({ 'default/checkout-new-flow': { development: true, production: true } }),
    );
    const { url, requests } = await serve(fake.handler);
    const resolution = await resolve(unleash(url));
    expect(resolution).toEqual({
      ok: true,
      target: flagTarget('unleash flag checkout-new-flow (production)', 'on', 'off'),
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      method: 'GET',
      path: '/api/admin/projects/default/features/checkout-new-flow',
    });
    expect(requests[0]!.headers['authorization']).toBe(TOKEN);
    expect(fake.flags.get('default/checkout-new-flow')?.get('production')).toBe(true);
    expect(resolution.ok && targetLine(resolution.target)).toBe(
      'unleash flag checkout-new-flow (production): on → off',
    );
  });

  it('Unleash: a flag already in the target state resolves to "already", and enabled: true targets on', async () => {
    const fake = fakeUnleash(TOKEN, flagTable({ 'shop/checkout-new-flow': { production: true } }));
    const { url, requests } = await serve(fake.handler);
    const resolution = await resolve(unleash(`${url}/api`, { project: 'shop', enabled: true }));
    expect(resolution).toEqual({
      ok: true,
      target: flagTarget('unleash flag checkout-new-flow (production)', 'on', 'on'),
    });
    expect(resolution.ok && targetLine(resolution.target)).toBe(
      'unleash flag checkout-new-flow (production): already on; the step changes nothing',
    );
    expect(fake.writes(requests)).toEqual([]);
  });

  it('LaunchDarkly: reads environments[env].on for the one environment asked, with no write', async () => {
    const fake = fakeLaunchDarkly(
      TOKEN,
      flagTable({ 'shop/checkout-new-flow': { staging: false, production: true } }),
    );
    const { url, requests } = await serve(fake.handler);
    const resolution = await resolve(ld(url));
    expect(resolution).toEqual({
      ok: true,
      target: flagTarget('launchdarkly flag checkout-new-flow (production)', 'on', 'off'),
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      method: 'GET',
      path: '/api/v2/flags/shop/checkout-new-flow?env=production',
    });
    expect(requests[0]!.headers['authorization']).toBe(TOKEN);
    expect(fake.flags.get('shop/checkout-new-flow')?.get('production')).toBe(true);
  });

  it.each([
    ['unleash', 'Unleash has no flag "checkout-new-flow" in project "default" (404)'],
    ['launchdarkly', 'LaunchDarkly has no flag "checkout-new-flow" in project "shop" (404)'],
  ])('%s: an unknown flag is refused with a sentence, nothing written', async (provider, error) => {
    const fake = (provider === 'unleash' ? fakeUnleash : fakeLaunchDarkly)(
      TOKEN,
      flagTable({ 'default/other-flag': { production: true }, 'shop/other-flag': { production: true } }),
    );
    const { url, requests } = await serve(fake.handler);
    expect(await resolve(provider === 'unleash' ? unleash(url) : ld(url))).toEqual({ ok: false, error });
    expect(fake.writes(requests)).toEqual([]);
  });

  it.each([
    ['unleash', 'Unleash refused the API token (401)'],
    ['launchdarkly', 'LaunchDarkly refused the API key (401)'],
  ])('%s: a refused token is refused with a sentence', async (provider, error) => {
    const fake = (provider === 'unleash' ? fakeUnleash : fakeLaunchDarkly)(
      'some-other-token',
      flagTable({
        'default/checkout-new-flow': { production: true },
        'shop/checkout-new-flow': { production: true },
      }),
    );
    const { url } = await serve(fake.handler);
    expect(await resolve(provider === 'unleash' ? unleash(url) : ld(url))).toEqual({ ok: false, error });
  });

  it('an environment the flag does not have is refused, naming the ones it has', async () => {
    const fake = fakeUnleash(TOKEN, flagTable({ 'default/checkout-new-flow': { development: true } }));
    const { url } = await serve(fake.handler);
    expect(await resolve(unleash(url))).toEqual({
      ok: false,
      error:
        'Unleash flag "checkout-new-flow" has no environment "production" in project "default"; environments: development',
    });
  });

  it('the generic endpoint cannot be read: no request, current unknown, the card says so', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 204);
    });
    const resolution = await resolve({ provider: 'http', url, environment: 'production', flag: 'f' });
    expect(resolution).toEqual({
      ok: true,
      target: {
        object: 'http flag f (production; its current state cannot be read)',
        current: { revision: 'unknown', images: [] },
        target: { revision: 'off', images: [] },
        pin: { from: 'unknown', to: 'off' },
      },
    });
    expect(requests).toEqual([]);
    expect(resolution.ok && targetLine(resolution.target)).toBe(
      'http flag f (production; its current state cannot be read): unknown → off',
    );
  });

  it('run with the target already reached reads the flag and writes nothing', async () => {
    const fake = fakeUnleash(TOKEN, flagTable({ 'default/checkout-new-flow': { production: false } }));
    const { url, requests } = await serve(fake.handler);
    const target = flagTarget('unleash flag checkout-new-flow (production)', 'on', 'off');
    const { result, lines } = await run(unleash(url), undefined, target);
    expect(result).toEqual({
      outcome: 'succeeded',
      output: {
        provider: 'unleash',
        flag: 'checkout-new-flow',
        environment: 'production',
        state: 'off',
        changed: false,
      },
      summary: 'Unleash: flag "checkout-new-flow" is already off in production; nothing was written',
    });
    expect(requests.map((r) => r.method)).toEqual(['GET']);
    expect(lines).toEqual([
      `reading Unleash flag "checkout-new-flow" in production: GET ${url}/api/admin/projects/default/features/checkout-new-flow`,
      '→ the flag is off',
    ]);
  });

  it('LaunchDarkly: run with the target already reached writes nothing', async () => {
    const fake = fakeLaunchDarkly(TOKEN, flagTable({ 'shop/checkout-new-flow': { production: false } }));
    const { url, requests } = await serve(fake.handler);
    const target = flagTarget('launchdarkly flag checkout-new-flow (production)', 'on', 'off');
    const { result } = await run(ld(url), undefined, target);
    expect(result).toMatchObject({ outcome: 'succeeded', output: { changed: false } });
    expect(fake.writes(requests)).toEqual([]);
  });

  it('run from the pinned start state sets the flag as without a target, and says it changed', async () => {
    const fake = fakeLaunchDarkly(TOKEN, flagTable({ 'shop/checkout-new-flow': { production: true } }));
    const { url, requests } = await serve(fake.handler);
    const target = flagTarget('launchdarkly flag checkout-new-flow (production)', 'on', 'off');
    const { result } = await run(ld(url), undefined, target);
    expect(result).toEqual({
      outcome: 'succeeded',
      output: {
        provider: 'launchdarkly',
        flag: 'checkout-new-flow',
        environment: 'production',
        status: 200,
        changed: true,
      },
      summary: 'LaunchDarkly: flag "checkout-new-flow" turned off in production',
    });
    expect(requests.map((r) => r.method)).toEqual(['GET', 'PATCH']);
    expect(JSON.parse(requests[1]!.body)).toMatchObject({ instructions: [{ kind: 'turnFlagOff' }] });
    expect(fake.flags.get('shop/checkout-new-flow')?.get('production')).toBe(false);
  });

  it('a flag removed since the approval is a conflict, and nothing is written', async () => {
    const fake = fakeUnleash(TOKEN, flagTable({}));
    const { url, requests } = await serve(fake.handler);
    const target = flagTarget('unleash flag checkout-new-flow (production)', 'on', 'off');
    const { result } = await run(unleash(url), undefined, target);
    expect(result).toEqual({
      outcome: 'failed',
      error:
        'Unleash has no flag "checkout-new-flow" in project "default" (404): it was removed since the rollback was approved; nothing was changed',
      conflict: true,
    });
    expect(fake.writes(requests)).toEqual([]);
  });

  it('a flag that cannot be read fails without writing and without a conflict', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 503, 'flag store unavailable');
    });
    const target = flagTarget('unleash flag checkout-new-flow (production)', 'on', 'off');
    const { result } = await run(unleash(url), undefined, target);
    expect(result).toEqual({
      outcome: 'failed',
      error: `Unleash answered 503 Service Unavailable to GET ${url}/api/admin/projects/default/features/checkout-new-flow: flag store unavailable; nothing was changed`,
    });
    expect(requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('a recorded target for the other state, or not written by this executor, changes nothing', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 200);
    });
    const object = 'unleash flag checkout-new-flow (production)';
    expect((await run(unleash(url), undefined, flagTarget(object, 'off', 'on'))).result).toEqual({
      outcome: 'failed',
      error: `the recorded target of ${object} turns it on, but the step now turns it off; nothing was changed`,
    });
    const foreign = { ...flagTarget(object, 'on', 'off'), pin: { fromHash: 'abc', toHash: 'def' } };
    expect((await run(unleash(url), undefined, foreign)).result).toEqual({
      outcome: 'failed',
      error: `the recorded target of ${object} is not one the feature-flag executor wrote ({"fromHash":"abc","toHash":"def"}); nothing was changed`,
    });
    expect(requests).toEqual([]);
  });

  it('the generic endpoint with a recorded target writes as before (it cannot be read)', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 204);
    });
    const target: StepTarget = {
      object: 'http flag f (its current state cannot be read)',
      current: { revision: 'unknown', images: [] },
      target: { revision: 'off', images: [] },
      pin: { from: 'unknown', to: 'off' },
    };
    const { result } = await run({ provider: 'http', url, flag: 'f' }, undefined, target);
    expect(requests.map((r) => r.method)).toEqual(['POST']);
    expect(result).toMatchObject({ outcome: 'succeeded', output: { status: 204, changed: true } });
  });
});
