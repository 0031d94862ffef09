/**
 * A real local HTTP server for executor tests: it records every request exactly as it arrived
 * (method, path, headers, body) and answers with a handler the test writes. Binds 127.0.0.1:0.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutorContext } from '../../src/executors/executor.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() when the request arrived. */
  at: number;
}

/** Answers the n-th request (0-based); may leave `res` open to play a peer that never answers. */
export type PeerHandler = (request: RecordedRequest, res: ServerResponse, n: number) => void;

export interface HttpPeer {
  url: string;
  requests: RecordedRequest[];
  /** Stops listening (connections are refused, as by a server that is down) until `accept`. */
  refuse(): Promise<void>;
  /** Listens again, on the same port. */
  accept(): Promise<void>;
  close(): Promise<void>;
}

export async function startPeer(handler: PeerHandler): Promise<HttpPeer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at,
      };
      requests.push(recorded);
      handler(recorded, res, requests.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => {
        resolve();
      });
    });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    refuse: stop,
    accept: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: stop,
  };
}

export function reply(
  res: ServerResponse,
  status: number,
  body: unknown = '',
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain' : 'application/json';
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(text);
}

/** An ExecutorContext that keeps the lines it is given. */
export function stepContext(
  signal: AbortSignal = new AbortController().signal,
  timeoutMs = 60_000,
  env: Readonly<Record<string, string | undefined>> = {},
) {
  const lines: string[] = [];
  const warnings: string[] = [];
  const ctx: ExecutorContext = {
    signal,
    timeoutMs,
    vars: {
      rollback: { id: 'rb-1', reason: 'test' },
      service: 'checkout',
      environment: 'production',
      fromVersion: 'v2',
      toVersion: 'v1',
      strategy: 'blue-green',
      incident: { startedAt: '2026-11-23T06:00:00.000Z' },
      declaredBy: 'U0DECL',
      steps: {},
    },
    log: {
      line: (text) => lines.push(text),
      warn: (text) => warnings.push(text),
    },
    rollback: { id: 'rb-1', service: 'checkout', environment: 'production' },
    env,
  };
  return { ctx, lines, warnings };
}
