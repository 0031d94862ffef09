import { afterEach, describe, expect, it } from 'vitest';
import { featureFlagExecutor } from '../../../src/executors/feature-flag/index.js';
import { prepareParams } from '../../../src/executors/render-params.js';
import { reply, startPeer, stepContext, type HttpPeer, type PeerHandler } from '../../support/http-peer.js';

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
async function run(params: Record<string, unknown>, signal?: AbortSignal) {
  const prepared = prepareParams(featureFlagExecutor.params, params, stepContext().ctx.vars, {
    FLAG_TOKEN: TOKEN,
  });
  if (!prepared.ok) throw new Error(prepared.error);
  const { ctx, lines, warnings } = stepContext(signal);
  const result = await featureFlagExecutor.run(ctx, prepared.params);
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
