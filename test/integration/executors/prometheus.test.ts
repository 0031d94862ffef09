import { afterEach, describe, expect, it } from 'vitest';
import { prometheusExecutor } from '../../../src/executors/prometheus/index.js';
import { reply, startPeer, stepContext, type HttpPeer, type PeerHandler } from '../../support/http-peer.js';

let peer: HttpPeer | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

const QUERY =
  'sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="checkout"}[5m]))';

/** A faithful Prometheus: answers only GET /api/v1/query with the expected query, else 400 bad_data. */
async function prometheus(answer: (time: number, n: number) => unknown, status = 200): Promise<HttpPeer> {
  const handler: PeerHandler = (req, res, n) => {
    const url = new URL(req.path, 'http://x');
    const time = Number(url.searchParams.get('time'));
    if (req.method !== 'GET' || url.pathname !== '/api/v1/query' || url.searchParams.get('query') !== QUERY) {
      reply(res, 400, { status: 'error', errorType: 'bad_data', error: 'unexpected request' });
      return;
    }
    reply(res, status, answer(time, n));
  };
  peer = await startPeer(handler);
  return peer;
}

const vector = (...series: [Record<string, string>, string][]) => ({
  status: 'success',
  data: {
    resultType: 'vector',
    result: series.map(([metric, value]) => ({ metric, value: [1763883155.123, value] })),
  },
});

async function run(params: Record<string, unknown>, signal?: AbortSignal) {
  const { ctx, lines, warnings } = stepContext(signal);
  const before = Date.now() / 1000;
  const result = await prometheusExecutor.run(ctx, prometheusExecutor.params.parse(params));
  return { result, lines, warnings, before, after: Date.now() / 1000 };
}

const threshold = (url: string, extra: Record<string, unknown> = {}) => ({
  url,
  query: QUERY,
  label: 'error rate',
  threshold: { op: '<', value: 0.05 },
  ...extra,
});

describe('prometheus executor (local Prometheus peer)', () => {
  it('sends the exact instant query with the evaluation time, and passes under the threshold', async () => {
    const { url, requests } = await prometheus(() => vector([{}, '0.012']));
    const { result, lines, before, after } = await run(threshold(`${url}/`));
    expect(requests).toHaveLength(1);
    const sent = new URL(requests[0]!.path, 'http://x');
    expect(requests[0]!.method).toBe('GET');
    expect(sent.pathname).toBe('/api/v1/query');
    expect([...sent.searchParams.keys()]).toEqual(['query', 'time']);
    expect(sent.searchParams.get('query')).toBe(QUERY);
    expect(sent.searchParams.get('time')).toMatch(/^\d+\.\d{3}$/);
    const time = Number(sent.searchParams.get('time'));
    expect(time).toBeGreaterThanOrEqual(Math.floor(before * 1000) / 1000);
    expect(time).toBeLessThanOrEqual(after);
    expect(result).toEqual({
      outcome: 'succeeded',
      output: { value: 0.012, series: [{ labels: {}, value: 0.012, passed: true }] },
      summary: 'error rate 0.012 < 0.05',
    });
    expect(lines[0]).toMatch(/^query: sum\(rate/);
  });

  it('fails over the threshold, saying the value and the rule', async () => {
    const { url } = await prometheus(() => vector([{}, '0.08333333333']));
    const { result } = await run(threshold(url));
    expect(result).toMatchObject({
      outcome: 'failed',
      error: 'error rate 0.08333 > 0.05 (passes when < 0.05)',
      output: { value: 0.08333333333 },
    });
  });

  it('reads a scalar result', async () => {
    const { url } = await prometheus(() => ({
      status: 'success',
      data: { resultType: 'scalar', result: [1763883155.123, '7'] },
    }));
    const { result } = await run(threshold(url, { threshold: { op: '>=', value: 3 }, label: 'replicas' }));
    expect(result).toMatchObject({ outcome: 'succeeded', summary: 'replicas 7 >= 3' });
  });

  it('requires every series to pass and names the ones that fail', async () => {
    const { url } = await prometheus(() =>
      vector([{ region: 'eu' }, '0.01'], [{ region: 'us' }, '0.09'], [{ region: 'ap' }, '0.05']),
    );
    const { result } = await run(threshold(url));
    expect(result).toMatchObject({
      outcome: 'failed',
      error:
        'error rate of {region="us"} 0.09 > 0.05, error rate of {region="ap"} 0.05 = 0.05 (2 of 3 series fail; passes when < 0.05)',
      output: {
        value: 0.09,
        series: [
          { labels: { region: 'eu' }, value: 0.01, passed: true },
          { labels: { region: 'us' }, value: 0.09, passed: false },
          { labels: { region: 'ap' }, value: 0.05, passed: false },
        ],
      },
    });
  });

  it('compares with the same query one offset earlier (time = now - offset): pass and fail', async () => {
    let now = '0.014'; // +40% over 0.010, allowed up to +50%
    const { url, requests } = await prometheus((time) =>
      vector([{ service: 'checkout' }, time < Date.now() / 1000 - 1800 ? '0.010' : now]),
    );
    const params = { url, query: QUERY, label: 'error rate', baseline: { maxIncrease: 0.5, offset: '1h' } };
    const pass = await run(params);
    expect(requests).toHaveLength(2);
    const times = requests.map((r) => new URL(r.path, 'http://x').searchParams.get('time')!).sort();
    expect(Number(times[1]) - Number(times[0])).toBeCloseTo(3600, 6);
    expect(Number(times[1])).toBeGreaterThanOrEqual(Math.floor(pass.before * 1000) / 1000);
    expect(pass.result).toEqual({
      outcome: 'succeeded',
      output: {
        value: 0.014,
        baseline: 0.01,
        series: [{ labels: { service: 'checkout' }, value: 0.014, baseline: 0.01, passed: true }],
      },
      summary: 'error rate 0.014 vs 0.01 1h ago (+40%), at most +50%',
    });

    now = '0.02';
    const fail = await run(params);
    expect(fail.result).toMatchObject({
      outcome: 'failed',
      error: 'error rate 0.02 vs 0.01 1h ago (+100%) (at most +50%)',
      output: { value: 0.02, baseline: 0.01 },
    });
  });

  it('is inconclusive when the baseline was zero or has no such series', async () => {
    const zero = await prometheus((time) => vector([{}, time < Date.now() / 1000 - 1800 ? '0' : '0.2']));
    const params = { url: zero.url, query: QUERY, baseline: { maxIncrease: 0.5 } };
    expect((await run(params)).result).toEqual({
      outcome: 'inconclusive',
      detail: 'value is 0.2 and was 0 1h ago: an increase over a zero baseline has no ratio',
    });
    await zero.close();
    const missing = await prometheus((time) =>
      time < Date.now() / 1000 - 1800 ? vector() : vector([{ pod: 'a' }, '1']),
    );
    expect((await run({ ...params, url: missing.url })).result).toEqual({
      outcome: 'inconclusive',
      detail: 'the baseline query (1h ago) returned nothing (no series matched)',
    });
  });

  it('is inconclusive, not failed, when the query returns nothing', async () => {
    const { url } = await prometheus(() => vector());
    expect((await run(threshold(url))).result).toEqual({
      outcome: 'inconclusive',
      detail: 'the query returned nothing (no series matched)',
    });
  });

  it.each(['NaN', '+Inf', '-Inf'])('is inconclusive on %s', async (value) => {
    const { url } = await prometheus(() => vector([{ job: 'api' }, value]));
    expect((await run(threshold(url))).result).toEqual({
      outcome: 'inconclusive',
      detail: `the query returned "${value}" for {job="api"}, not a number`,
    });
  });

  it('is inconclusive on a query error (status "error", HTTP 400 or 422)', async () => {
    const { url } = await prometheus(
      () => ({ status: 'error', errorType: 'bad_data', error: '1:14: parse error: unexpected "}"' }),
      400,
    );
    expect((await run(threshold(url))).result).toEqual({
      outcome: 'inconclusive',
      detail: 'Prometheus refused the query (bad_data): 1:14: parse error: unexpected "}"',
    });
  });

  it('is inconclusive on a 500 and when Prometheus cannot be reached', async () => {
    const { url } = await prometheus(() => 'internal error\n', 500);
    expect((await run(threshold(url))).result).toEqual({
      outcome: 'inconclusive',
      detail: 'Prometheus answered the query with 500: internal error',
    });
    await peer!.close();
    const unreachable = await run(threshold(url));
    expect(unreachable.result).toMatchObject({ outcome: 'inconclusive' });
    expect(unreachable.result.outcome === 'inconclusive' && unreachable.result.detail).toMatch(
      /^Prometheus could not be reached for the query: .*ECONNREFUSED/,
    );
    peer = undefined;
  });

  it('is inconclusive when Prometheus does not answer within the timeout', async () => {
    peer = await startPeer(() => undefined);
    const started = performance.now();
    const { result } = await run(threshold(peer.url, { timeout: '300ms' }));
    expect(result).toEqual({
      outcome: 'inconclusive',
      detail: 'Prometheus did not answer the query within 300ms',
    });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('stops promptly when the rollback is cancelled', async () => {
    peer = await startPeer(() => undefined);
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 100);
    const started = performance.now();
    const { result } = await run(threshold(peer.url), controller.signal);
    expect(result).toEqual({
      outcome: 'failed',
      error: 'the Prometheus query was stopped (rollback cancelled or bot shutting down)',
    });
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
