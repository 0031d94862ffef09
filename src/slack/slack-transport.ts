/**
 * How every Slack call leaves the bot (the Web API, and the response_url answers of commands and
 * clicks): node:http(s) over kept-alive sockets, answering with the small part of a fetch Response
 * that the Web API client and Bolt read. The global fetch cost two to three times the CPU per call
 * (web streams, its dispatcher), and under load a `/rollback status` spent more on answering than
 * on everything else it does (docs/performance.md). A bounded pool per host also keeps a burst of
 * answers waiting in a queue, not in a thousand open sockets.
 *
 * What it does not handle itself goes to the global fetch, unchanged: a body that is not text (a
 * file upload's form) and every call when Node is told to use the environment's proxy (only fetch
 * and the global agents honour NODE_USE_ENV_PROXY).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { FetchFunction } from '@slack/web-api';

type FetchAnswer = Awaited<ReturnType<FetchFunction>>;

export interface SlackTransportOptions {
  /** The process environment: NODE_USE_ENV_PROXY hands every call to `fallback`. */
  env: Readonly<Record<string, string | undefined>>;
  /** Sockets per host; a call beyond them waits for one. */
  maxSockets?: number;
  fallback?: FetchFunction;
}

/** As fetch: a connection that says nothing for this long is given up (undici's default). */
const SILENCE_MS = 300_000;
const MAX_REDIRECTS = 20;
const NULL_BODY = new Set([101, 204, 205, 304]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function slackTransport(options: SlackTransportOptions): FetchFunction {
  const fallback = options.fallback ?? globalThis.fetch;
  const proxied =
    (options.env['NODE_USE_ENV_PROXY'] ?? '') !== '' && options.env['NODE_USE_ENV_PROXY'] !== '0';
  if (proxied) return fallback;
  const maxSockets = options.maxSockets ?? 64;
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, maxSockets }),
    'https:': new HttpsAgent({ keepAlive: true, maxSockets }),
  };
  return async (input, init = {}) => {
    if (init.body !== undefined && typeof init.body !== 'string') return fallback(input, init);
    let url = new URL(input);
    let method = (init.method ?? 'GET').toUpperCase();
    let headers = { ...(init.headers ?? {}) };
    let body = init.body;
    for (let hops = 0; ; hops++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return fallback(url, init);
      const answer = await exchange(url, method, headers, body, init.signal, agents[url.protocol]);
      const location = answer.headers.get('location');
      if (!REDIRECTS.has(answer.status) || location === null || init.redirect === 'manual') return answer;
      if (init.redirect === 'error' || hops >= MAX_REDIRECTS) {
        throw new TypeError('fetch failed', { cause: new Error(`redirected to ${location}`) });
      }
      // Fetch's rules: 303, and 301/302 after a POST, go on as a GET without the body.
      if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        headers = withoutContent(headers);
      }
      url = new URL(location, url);
    }
  };
}

function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal | undefined,
  agent: HttpAgent,
): Promise<FetchAnswer> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const sent: Record<string, string> = { ...headers };
    if (body !== undefined) {
      if (!hasHeader(sent, 'content-type')) sent['content-type'] = 'text/plain;charset=UTF-8';
      sent['content-length'] = String(Buffer.byteLength(body));
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method, headers: sent, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        try {
          resolve(answerOf(url, res, decoded(res, Buffer.concat(chunks))));
        } catch (error) {
          reject(new TypeError('fetch failed', { cause: error }));
        }
      });
      res.on('error', fail);
    });
    function fail(error: unknown): void {
      signal?.removeEventListener('abort', onAbort);
      reject(
        signal?.aborted === true ? (signal.reason as Error) : new TypeError('fetch failed', { cause: error }),
      );
    }
    function onAbort(): void {
      req.destroy(signal?.reason as Error);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.setTimeout(SILENCE_MS, () =>
      req.destroy(new Error(`no answer from ${url.host} in ${SILENCE_MS} ms`)),
    );
    req.on('error', fail);
    req.end(body);
  });
}

/** The body as sent; a server that compressed it unasked is undone as fetch would. */
function decoded(res: IncomingMessage, raw: Buffer): Buffer {
  switch (res.headers['content-encoding']) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(raw);
    case 'deflate':
      return inflateSync(raw);
    case 'br':
      return brotliDecompressSync(raw);
    default:
      return raw;
  }
}

function answerOf(url: URL, res: IncomingMessage, raw: Buffer): FetchAnswer {
  const status = res.statusCode ?? 0;
  const body = NULL_BODY.has(status) ? Buffer.alloc(0) : raw;
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
    headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const text = (): string => body.toString('utf8');
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: res.statusMessage ?? '',
    url: url.href,
    headers,
    arrayBuffer: () =>
      Promise.resolve(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer),
    json: () => Promise.resolve().then(() => JSON.parse(text()) as unknown),
    text: () => Promise.resolve(text()),
  };
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

function withoutContent(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(
      ([key]) => !/^content-(type|length|encoding|language|location)$/i.test(key),
    ),
  );
}
