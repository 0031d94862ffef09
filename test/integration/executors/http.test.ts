import { afterEach, describe, expect, it } from 'vitest';
import { httpExecutor } from '../../../src/executors/http/index.js';
import { renderParams } from '../../../src/executors/render-params.js';
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

/** Runs the executor as the step performer does: parameters checked (and defaulted) by its schema. */
async function run(params: Record<string, unknown>, signal?: AbortSignal) {
  const { ctx, lines, warnings } = stepContext(signal);
  const result = await httpExecutor.run(ctx, httpExecutor.params.parse(params));
  return { result, lines, warnings };
}

const never: PeerHandler = () => undefined;

describe('http executor (real local server)', () => {
  it('sends method, headers and a JSON body exactly, and returns the parsed JSON answer', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 200, { switched: true, color: 'blue' });
    });
    const { result, lines } = await run({
      method: 'POST',
      url: `${url}/switch?to=blue`,
      headers: { Authorization: 'Bearer s3cret', 'X-Rollback': 'rb-1' },
      json: { version: 'v1', requestedBy: 'rb-1', weights: [0, 100] },
      expectStatus: 200,
    });
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request).toMatchObject({ method: 'POST', path: '/switch?to=blue' });
    expect(request!.headers).toMatchObject({
      authorization: 'Bearer s3cret',
      'x-rollback': 'rb-1',
      'content-type': 'application/json',
    });
    expect(JSON.parse(request!.body)).toEqual({ version: 'v1', requestedBy: 'rb-1', weights: [0, 100] });
    expect(result).toMatchObject({
      outcome: 'succeeded',
      output: { status: 200, body: { switched: true, color: 'blue' }, attempts: 1 },
      summary: `POST ${url}/switch?to=blue answered 200 OK`,
    });
    expect(result.outcome === 'succeeded' && result.output['durationMs']).toBeGreaterThanOrEqual(0);
    expect(lines).toEqual([`POST ${url}/switch?to=blue`, expect.stringMatching(/^→ 200 OK \(\d+ ms\)$/)]);
  });

  it('gives later steps the fields of a JSON answer: {{ steps.<id>.output.body.<field> }}', async () => {
    const { url, requests } = await serve((req, res) => {
      reply(res, 200, req.path === '/release' ? { image: 'search:41', tags: ['stable'] } : 'switched');
    });
    const first = await run({ url: `${url}/release` });
    expect(first.result.outcome).toBe('succeeded');
    const { ctx } = stepContext();
    const vars = {
      ...ctx.vars,
      steps: { release: { output: first.result.outcome === 'succeeded' ? first.result.output : {} } },
    };
    const rendered = renderParams(
      { method: 'POST', url: `${url}/switch`, json: { image: '{{ steps.release.output.body.image }}' } },
      vars,
      {},
    );
    expect(rendered.ok).toBe(true);
    const second = await run(rendered.ok ? (rendered.value as Record<string, unknown>) : {});
    expect(second.result.outcome).toBe('succeeded');
    expect(JSON.parse(requests[1]!.body)).toEqual({ image: 'search:41' });
  });

  it('sends a form body url-encoded, keeping a content type the plan sets', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 204);
    });
    const { result } = await run({ method: 'PUT', url, form: { version: 'v1', note: 'a b&c' } });
    expect(result.outcome).toBe('succeeded');
    expect(requests[0]).toMatchObject({ method: 'PUT', body: 'version=v1&note=a+b%26c' });
    expect(requests[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');

    await run({
      method: 'PUT',
      url,
      json: { a: 1 },
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    expect(requests[1]!.headers['content-type']).toBe('application/merge-patch+json');
  });

  it('accepts any 2xx by default and exactly the listed statuses otherwise', async () => {
    const { url } = await serve((req, res) => {
      reply(res, Number(req.path.slice(1)), 'hello');
    });
    expect((await run({ url: `${url}/202` })).result).toMatchObject({
      outcome: 'succeeded',
      output: { status: 202, body: 'hello' },
    });
    expect((await run({ url: `${url}/204`, expectStatus: [200, 204] })).result.outcome).toBe('succeeded');
    expect((await run({ url: `${url}/200`, expectStatus: 201 })).result).toEqual({
      outcome: 'failed',
      error: `GET ${url}/200 answered 200 (expected 201): hello`,
      output: expect.objectContaining({ status: 200, body: 'hello' }) as unknown,
    });
  });

  it('fails on a wrong status without retrying a 4xx, quoting the body', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 404, 'no such deployment\n');
    });
    const { result } = await run({ url: `${url}/deploy`, retries: 3 });
    expect(result).toMatchObject({
      outcome: 'failed',
      error: `GET ${url}/deploy answered 404 (expected 2xx): no such deployment`,
    });
    expect(requests).toHaveLength(1);
  });

  it('retries a GET on 5xx with growing, jittered pauses, then succeeds', async () => {
    const { url, requests } = await serve((_req, res, n) => {
      if (n < 2) reply(res, 503, 'warming up');
      else reply(res, 200, { ready: true });
    });
    const { result, lines } = await run({ url, retries: 3 });
    expect(result).toMatchObject({
      outcome: 'succeeded',
      output: { status: 200, body: { ready: true }, attempts: 3 },
      summary: `GET ${url} answered 200 OK after 3 attempts`,
    });
    expect(requests.map((r) => r.method)).toEqual(['GET', 'GET', 'GET']);
    const gaps = [requests[1]!.at - requests[0]!.at, requests[2]!.at - requests[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(120); // 250 ms, half of it at least
    expect(gaps[1]).toBeGreaterThanOrEqual(245); // 500 ms, half of it at least
    expect(lines.filter((line) => line.startsWith('retrying in '))).toHaveLength(2);
    expect(lines[0]).toBe(`GET ${url} (attempt 1/4)`);
  });

  it('gives up after the last retry with the status, the attempts and the body', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 502, 'bad gateway from upstream');
    });
    const { result } = await run({ url, retries: 2 });
    expect(result).toMatchObject({
      outcome: 'failed',
      error: `GET ${url} answered 502 (expected 2xx) after 3 attempts: bad gateway from upstream`,
      output: { status: 502, attempts: 3 },
    });
    expect(requests).toHaveLength(3);
  });

  it('never retries a POST (nor a PATCH), and says the retries were ignored', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 503, 'busy');
    });
    const post = await run({ method: 'POST', url, json: { go: 1 }, retries: 3, expectStatus: 200 });
    expect(post.result).toMatchObject({
      outcome: 'failed',
      error: `POST ${url} answered 503 (expected 200): busy`,
    });
    expect(post.warnings).toEqual([
      'retries: 3 ignored: a POST is never sent twice, it may have taken effect',
    ]);
    const patch = await run({ method: 'PATCH', url, json: { go: 1 }, retries: 3 });
    expect(patch.result.outcome).toBe('failed');
    expect(requests.map((r) => r.method)).toEqual(['POST', 'PATCH']);
  });

  it('honours Retry-After on a 429', async () => {
    const { url, requests } = await serve((_req, res, n) => {
      if (n === 0) reply(res, 429, 'slow down', { 'retry-after': '1' });
      else reply(res, 200, 'ok');
    });
    const { result, lines } = await run({ method: 'DELETE', url, retries: 1 });
    expect(result).toMatchObject({ outcome: 'succeeded', output: { status: 200, attempts: 2 } });
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(990);
    expect(lines).toContain('retrying in 1s');
  });

  it('does not wait for a Retry-After that would pass the time limit', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 503, 'maintenance', { 'retry-after': '120' });
    });
    const started = performance.now();
    const { result } = await run({ url, retries: 2, timeout: '10s' });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(result).toMatchObject({
      outcome: 'failed',
      error: `GET ${url} answered 503 (expected 2xx): maintenance (no time left for another attempt in 2m within 10s)`,
    });
    expect(requests).toHaveLength(1);
  });

  it('retries a network error for an idempotent method and names the cause', async () => {
    const closed = await startPeer(never);
    const url = `${closed.url}/health`;
    await closed.close();
    const { result } = await run({ method: 'PUT', url, json: {}, retries: 1 });
    expect(result).toMatchObject({ outcome: 'failed', output: { status: null, attempts: 2 } });
    expect(result.outcome === 'failed' && result.error).toMatch(
      new RegExp(`^PUT ${url} failed after 2 attempts: connect ECONNREFUSED`),
    );
  });

  it('stops a request that never answers at the time limit', async () => {
    const { url, requests } = await serve(never);
    const started = performance.now();
    const { result } = await run({ url, timeout: '300ms', retries: 2 });
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ outcome: 'failed', error: `GET ${url} did not answer within 300ms` });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2_000);
    expect(requests).toHaveLength(1);
  });

  it('stops at once when aborted mid-request', async () => {
    const { url, requests } = await serve(never);
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 150);
    const started = performance.now();
    const { result } = await run({ method: 'POST', url, json: {} }, controller.signal);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(result).toEqual({
      outcome: 'failed',
      error: `POST ${url} was stopped (rollback cancelled or bot shutting down)`,
    });
    expect(requests).toHaveLength(1);
  });

  it('stops at once when aborted during the pause between attempts', async () => {
    const { url, requests } = await serve((_req, res) => {
      reply(res, 503, 'down', { 'retry-after': '20' });
    });
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 200);
    const started = performance.now();
    const { result } = await run({ url, retries: 3, timeout: '1m' }, controller.signal);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(result).toMatchObject({
      outcome: 'failed',
      error: `GET ${url} was stopped (rollback cancelled or bot shutting down)`,
    });
    expect(requests).toHaveLength(1);
  });

  it('keeps a huge body to 2,000 characters, in the output and in the error', async () => {
    const huge = 'x'.repeat(1_000_000);
    const { url } = await serve((req, res) => {
      if (req.path === '/json') reply(res, 200, { items: Array.from({ length: 50_000 }, (_, i) => i) });
      else reply(res, req.path === '/fail' ? 500 : 200, huge);
    });
    const ok = await run({ url });
    expect(ok.result).toMatchObject({ outcome: 'succeeded', output: { status: 200, bodyTruncated: true } });
    expect(ok.result.outcome === 'succeeded' && ok.result.output['body']).toBe('x'.repeat(2_000));

    const json = await run({ url: `${url}/json` });
    expect(json.result).toMatchObject({ outcome: 'succeeded', output: { bodyTruncated: true } });
    expect(JSON.stringify(json.result).length).toBeLessThan(3_000);
    expect(json.warnings[0]).toMatch(/longer than 2000 characters; only its first 2000 are kept, as text/);

    const failed = await run({ url: `${url}/fail` });
    expect(failed.result.outcome).toBe('failed');
    expect(JSON.stringify(failed.result).length).toBeLessThan(3_000);
  });
});

describe('http parameters', () => {
  it('refuse a body on a GET, which fetch cannot send', () => {
    const parsed = httpExecutor.params.safeParse({ url: 'http://127.0.0.1/x', json: { a: 1 } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe(
      'a GET request cannot carry a body: set method (POST, PUT, PATCH...) or drop json',
    );
  });
});
