import { afterEach, describe, expect, it } from 'vitest';
import { healthcheckExecutor } from '../../../src/executors/healthcheck/index.js';
import { reply, startPeer, stepContext, type HttpPeer, type PeerHandler } from '../../support/http-peer.js';

let peer: HttpPeer | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

/** A peer answering the n-th probe with statuses[n] (the last one repeats), body "ok" or "down". */
async function serveStatuses(statuses: number[]): Promise<HttpPeer> {
  return serve((_req, res, n) => {
    const status = statuses[Math.min(n, statuses.length - 1)]!;
    reply(res, status, status < 300 ? 'ok' : 'down');
  });
}

async function serve(handler: PeerHandler): Promise<HttpPeer> {
  peer = await startPeer(handler);
  return peer;
}

async function run(params: Record<string, unknown>, signal?: AbortSignal, timeoutMs?: number) {
  const { ctx, lines } = stepContext(signal, timeoutMs);
  const result = await healthcheckExecutor.run(ctx, healthcheckExecutor.params.parse(params));
  return { result, lines };
}

const probeLine = (n: number, of: number, status: string) =>
  new RegExp(`^probe ${n}/${of}: ${status.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(\\d+ ms\\)$`);

describe('healthcheck executor (real local server)', () => {
  it('succeeds on N consecutive successes, logging each probe', async () => {
    const { url, requests } = await serveStatuses([503, 200, 200, 200]);
    const { result, lines } = await run({
      url: `${url}/health`,
      successes: 2,
      attempts: 5,
      interval: '10ms',
    });
    expect(result).toEqual({
      outcome: 'succeeded',
      output: { probes: 3, successes: 2, lastStatus: 200 },
      summary: `${url}/health healthy: 2 successes in a row after 3 probes`,
    });
    expect(lines).toEqual([
      expect.stringMatching(probeLine(1, 5, '503 Service Unavailable (expected 2xx): down')),
      expect.stringMatching(probeLine(2, 5, '200 OK')),
      expect.stringMatching(probeLine(3, 5, '200 OK')),
    ]);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(Array(3).fill('GET /health'));
  });

  it('starts counting again after a failure: successes must be in a row', async () => {
    const { url } = await serveStatuses([200, 500, 200, 200]);
    const { result } = await run({ url, successes: 2, attempts: 4, interval: '10ms' });
    expect(result).toMatchObject({ outcome: 'succeeded', output: { probes: 4, successes: 2 } });
  });

  it('waits the interval between probes', async () => {
    const { url, requests } = await serveStatuses([503, 200]);
    await run({ url, successes: 1, attempts: 2, interval: '300ms' });
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(290);
  });

  it('fails when the attempts run out', async () => {
    const { url, requests } = await serveStatuses([200, 503]);
    const { result } = await run({ url, successes: 2, attempts: 3, interval: '10ms' });
    expect(result).toEqual({
      outcome: 'failed',
      error: `${url} is not healthy: needed 2 successes in a row within 3 attempts; after probe 2, the 1 attempt left cannot make it; last probe: 503 Service Unavailable (expected 2xx): down`,
      output: { probes: 2, successes: 0, lastStatus: 503 },
    });
    expect(requests).toHaveLength(2);

    const always = await run({ url, successes: 1, attempts: 3, interval: '10ms' });
    expect(always.result).toMatchObject({
      outcome: 'failed',
      error: expect.stringContaining(
        'needed 1 success in a row within 3 attempts; got 0 in a row at most',
      ) as unknown,
    });
  });

  it('fails early when the attempts left cannot reach N in a row', async () => {
    const { url, requests } = await serveStatuses([200, 503, 503, 200, 200, 200]);
    const { result, lines } = await run({ url, successes: 3, attempts: 5, interval: '10ms' });
    expect(result).toMatchObject({
      outcome: 'failed',
      error: expect.stringContaining('after probe 3, the 2 attempts left cannot make it') as unknown,
      output: { probes: 3, successes: 0, lastStatus: 503 },
    });
    expect(requests).toHaveLength(3);
    expect(lines).toHaveLength(3);
  });

  it('checks the expected status and the body against bodyMatch', async () => {
    const bodies = ['{"status":"degraded"}', '{"status": "ok"}'];
    const { url } = await serve((_req, res, n) => {
      reply(res, n === 0 ? 200 : 202, bodies[Math.min(n, 1)]);
    });
    const { result, lines } = await run({
      url,
      expectStatus: [200, 202],
      bodyMatch: '"status":\\s*"ok"',
      attempts: 3,
      interval: '10ms',
    });
    expect(result).toMatchObject({ outcome: 'succeeded', output: { probes: 2, lastStatus: 202 } });
    expect(lines[0]).toMatch(
      probeLine(1, 3, '200 OK but the body does not match /"status":\\s*"ok"/: {"status":"degraded"}'),
    );

    const word = await run({ url, expectStatus: 202, bodyMatch: 'ok', attempts: 1 });
    expect(word.result.outcome).toBe('succeeded');
  });

  it('fails a probe that takes longer than its timeout, then goes on', async () => {
    const { url, requests } = await serve((_req, res, n) => {
      if (n > 0) reply(res, 200, 'ok'); // the first request never gets an answer
    });
    const { result, lines } = await run({ url, timeout: '200ms', attempts: 3, interval: '10ms' });
    expect(result).toMatchObject({ outcome: 'succeeded', output: { probes: 2 } });
    expect(lines[0]).toMatch(probeLine(1, 3, 'no answer within 200ms'));
    expect(requests).toHaveLength(2);
  });

  it('reports a peer that refuses connections', async () => {
    const closed = await startPeer(() => undefined);
    await closed.close();
    const { result, lines } = await run({ url: closed.url, attempts: 1 });
    expect(result).toMatchObject({ outcome: 'failed', output: { probes: 1, lastStatus: null } });
    expect(lines[0]).toMatch(/^probe 1\/1: no answer: connect ECONNREFUSED/);
  });

  it('stops at once when aborted during the pause or a probe', async () => {
    const { url } = await serveStatuses([503]);
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 150);
    const started = performance.now();
    const { result } = await run({ url, attempts: 10, interval: '30s' }, controller.signal);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(result).toEqual({
      outcome: 'failed',
      error: `health check of ${url} was stopped (rollback cancelled or bot shutting down)`,
    });

    await peer?.close();
    const hanging = await serve(() => undefined);
    const again = new AbortController();
    setTimeout(() => {
      again.abort();
    }, 150);
    const { result: mid } = await run({ url: hanging.url, timeout: '30s' }, again.signal);
    expect(mid.outcome === 'failed' && mid.error).toMatch(/was stopped/);
  });

  it("stops at the step's time limit", async () => {
    const { url } = await serveStatuses([503]);
    const { result } = await run({ url, attempts: 10, interval: '30s' }, undefined, 300);
    expect(result).toEqual({
      outcome: 'failed',
      error: `health check of ${url} did not finish within the step's time limit of 300ms`,
    });
  });
});
