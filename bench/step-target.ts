/**
 * What the engine benches' `http` steps call, and the plans that call it: a node:http server on
 * 127.0.0.1 (port chosen by the OS) that answers every request after a delay and records when each
 * arrived and when its answer was sent (performance.now() of this process), and a plan file of
 * `http` steps against it, with the e2e tests' authority policy. Not a bench of its own.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface StepRequest {
  /** The path asked for: `/<service>/<step>`. */
  path: string;
  arrivedAt: number;
  /** When the answer was written (undefined while it is held, or when the caller went away). */
  answeredAt?: number;
}

export interface StepTarget {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: StepRequest[];
  /** Called as each request arrives (before its delay). */
  onArrival(listener: (request: StepRequest) => void): void;
  stop(): Promise<void>;
}

/** `delayMs(path)`: how long that request is held before its 200 (Infinity: never answered). */
export async function startStepTarget(delayMs: (path: string) => number): Promise<StepTarget> {
  const requests: StepRequest[] = [];
  const listeners: Array<(request: StepRequest) => void> = [];
  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    const record: StepRequest = { path: req.url ?? '', arrivedAt: performance.now() };
    requests.push(record);
    for (const listener of listeners) listener(record);
    req.resume();
    const send = (): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}', () => {
        record.answeredAt = performance.now();
      });
    };
    const wait = delayMs(record.path);
    if (wait === Number.POSITIVE_INFINITY) return;
    if (wait <= 0) send();
    else setTimeout(send, wait);
  };
  const server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    onArrival: (listener) => listeners.push(listener),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

export interface HttpPlan {
  service: string;
  steps: number;
  /** The step's `timeout` (default 30s). */
  timeout?: string;
}

/**
 * A plan file (a temp folder holding it, removed by `remove`) with the e2e tests' `default`
 * authority policy and one plan per service: `steps` GETs of `<target>/<service>/<n>`, no validation
 * checks and no stabilisation window, so a rollback resolves as its last step succeeds.
 */
export function httpPlanFile(
  target: string,
  plans: readonly HttpPlan[],
  channel: string,
): { path: string; remove: () => void } {
  const policy = readFileSync('test/fixtures/e2e/alert-plans.yaml', 'utf8').split('\n---\n')[0]!;
  const documents = plans.map(({ service, steps, timeout }) =>
    [
      'apiVersion: rollback-bot/v1',
      'kind: RollbackPlan',
      `metadata: { name: ${service} }`,
      'spec:',
      `  service: ${service}`,
      `  channel: ${channel}`,
      '  environments: [production]',
      '  criticality: medium',
      '  rto: 15m',
      '  authority: default',
      '  defaultStrategy: http',
      '  strategies:',
      '    http:',
      '      steps:',
      ...Array.from(
        { length: steps },
        (_, n) =>
          `        - { name: Step ${n + 1}, uses: http, with: { url: '${target}/${service}/${n + 1}', timeout: ${timeout ?? '30s'} } }`,
      ),
      '      validate: []',
      '      stabilize: 0s',
    ].join('\n'),
  );
  const dir = mkdtempSync(join(tmpdir(), 'rollback-bot-bench-plans-'));
  const path = join(dir, 'plans.yaml');
  writeFileSync(path, [policy, ...documents].join('\n---\n'));
  return {
    path,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
