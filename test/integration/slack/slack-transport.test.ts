/**
 * The transport of the bot's Slack calls, against a real local HTTP server: it sends what fetch would
 * (method, headers, body), answers what the Web API client and Bolt read, follows redirects as fetch
 * does, honours an abort, fails as fetch fails, and leaves to fetch what it does not handle itself.
 * Then the masking fetch in front of it: a body holding a secret is masked, any other goes as it is.
 */
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretMask } from '../../../src/domain/secret-mask.js';
import { maskedFetch } from '../../../src/slack/masked-fetch.js';
import { slackTransport } from '../../../src/slack/slack-transport.js';
import { startPeer, type HttpPeer } from '../../support/http-peer.js';

let peer: HttpPeer | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

const transport = slackTransport({ env: {} });

describe('slackTransport', () => {
  it('posts the body with its headers and answers status, headers and body', async () => {
    peer = await startPeer((_request, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-oauth-scopes': 'chat:write' });
      res.end('{"ok":true,"ts":"1.2"}');
    });
    const answer = await transport(`${peer.url}/api/chat.postMessage`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: 'Bearer xoxb-1' },
      body: 'channel=C1&text=h%C3%A9',
    });
    expect(answer).toMatchObject({ ok: true, status: 200, url: `${peer.url}/api/chat.postMessage` });
    expect(answer.headers.get('x-oauth-scopes')).toBe('chat:write');
    expect(await answer.json()).toEqual({ ok: true, ts: '1.2' });
    expect(peer.requests[0]).toMatchObject({
      method: 'POST',
      path: '/api/chat.postMessage',
      body: 'channel=C1&text=h%C3%A9',
      headers: { authorization: 'Bearer xoxb-1', 'content-length': '23' },
    });
  });

  it('keeps the connection for the next call', async () => {
    peer = await startPeer((_request, res) => res.end('{}'));
    await transport(`${peer.url}/a`, { method: 'POST', body: '{}' });
    await transport(`${peer.url}/b`, { method: 'POST', body: '{}' });
    expect(peer.requests.map((r) => r.headers.connection)).toEqual(['keep-alive', 'keep-alive']);
  });

  it('answers a refusal as fetch does (not ok, body readable) and undoes a compressed body', async () => {
    peer = await startPeer((_request, res, n) => {
      if (n === 0) {
        res.writeHead(429, 'Too Many Requests', { 'retry-after': '3' }).end('slow down');
        return;
      }
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('{"ok":true}'));
    });
    const limited = await transport(`${peer.url}/x`, { method: 'POST', body: '' });
    expect(limited).toMatchObject({ ok: false, status: 429, statusText: 'Too Many Requests' });
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(await limited.text()).toBe('slow down');
    expect(await (await transport(`${peer.url}/y`, { method: 'POST', body: '' })).json()).toEqual({
      ok: true,
    });
  });

  it('follows a redirect as fetch does, and refuses one when told to', async () => {
    peer = await startPeer((request, res) => {
      if (request.path === '/old') res.writeHead(307, { location: '/new' }).end();
      else if (request.path === '/moved') res.writeHead(303, { location: '/new' }).end();
      else res.end(`${request.method} ${request.body}`);
    });
    const kept = await transport(`${peer.url}/old`, { method: 'POST', body: 'x=1' });
    expect(await kept.text()).toBe('POST x=1');
    const changed = await transport(`${peer.url}/moved`, { method: 'POST', body: 'x=1' });
    expect(await changed.text()).toBe('GET ');
    await expect(
      transport(`${peer.url}/old`, { method: 'POST', body: 'x=1', redirect: 'error' }),
    ).rejects.toThrow(TypeError);
  });

  it('gives up when its signal aborts, with the signal’s reason', async () => {
    peer = await startPeer(() => {
      // Never answers.
    });
    const signal = AbortSignal.timeout(50);
    await expect(transport(`${peer.url}/slow`, { method: 'POST', body: '', signal })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });

  it('fails as fetch fails when nothing listens', async () => {
    peer = await startPeer((_request, res) => res.end());
    const url = peer.url;
    await peer.close();
    peer = undefined;
    await expect(transport(`${url}/x`, { method: 'POST', body: '' })).rejects.toThrow('fetch failed');
  });

  it('leaves a form upload, and every call under NODE_USE_ENV_PROXY, to fetch', async () => {
    const handed: string[] = [];
    const fallback = (url: string | URL) => {
      handed.push(String(url));
      return Promise.resolve(new Response('{}'));
    };
    const form = new FormData();
    form.append('file', new Blob(['x']), 'x.txt');
    await slackTransport({ env: {}, fallback })('http://127.0.0.1:9/upload', { method: 'POST', body: form });
    await slackTransport({ env: { NODE_USE_ENV_PROXY: '1' }, fallback })('http://127.0.0.1:9/api', {
      method: 'POST',
      body: '',
    });
    expect(handed).toEqual(['http://127.0.0.1:9/upload', 'http://127.0.0.1:9/api']);
  });
});

describe('maskedFetch', () => {
  const secret = 's3cr3t "value"';
  const mask = new SecretMask([secret]);

  it('masks a secret in a JSON body (where it is escaped) and in a form body (where it is encoded)', async () => {
    peer = await startPeer((_request, res) => res.end('{}'));
    const send = maskedFetch(mask, transport);
    await send(`${peer.url}/respond`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: `token ${secret}` }),
    });
    await send(`${peer.url}/api`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ text: `token ${secret}` }).toString(),
    });
    expect(JSON.parse(peer.requests[0]!.body)).toEqual({ text: 'token •••' });
    expect(new URLSearchParams(peer.requests[1]!.body).get('text')).toBe('token •••');
  });

  it('sends a body without a secret exactly as it was given', async () => {
    peer = await startPeer((_request, res) => res.end('{}'));
    const body = '{"text":"all   fine",  "blocks":[]}';
    await maskedFetch(mask, transport)(`${peer.url}/respond`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    expect(peer.requests[0]!.body).toBe(body);
  });
});
