/**
 * A real Prometheus and a real Alertmanager (Debian's `prometheus` and `prometheus-alertmanager`)
 * on loopback, with configurations generated for one test: Prometheus scrapes a local target and
 * evaluates the shipped rules (their windows shortened so a test takes seconds, not the matrix's
 * minutes), Alertmanager posts to the bot's receiver with the bearer token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

export interface PrometheusStack {
  prometheusUrl: string;
  alertmanagerUrl: string;
  /** What the processes printed, for the failure message. */
  logs(): string;
  stop(): Promise<void>;
}

export function requireBinaries(): void {
  for (const tool of ['prometheus', 'prometheus-alertmanager']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      throw new Error(
        `${tool} is not installed: apt-get install prometheus prometheus-alertmanager (.ci/run does it)`,
      );
    }
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/**
 * The shipped rules with every range (`[5m]`) and `for:` shortened: the expressions and labels
 * stay the shipped ones, so the test proves the file the operators load.
 */
export function acceleratedRules(file: string, range = '10s', holdFor = '2s'): string {
  const rules = parse(readFileSync(file, 'utf8')) as {
    groups: Array<{ rules: Array<{ expr: string; for?: string }> }>;
  };
  for (const group of rules.groups) {
    for (const rule of group.rules) {
      rule.expr = rule.expr
        .replace(/\[\d+[smh]\]/g, `[${range}]`)
        .replace(/offset \d+[smhd]/g, `offset ${range}`);
      if (rule.for !== undefined) rule.for = holdFor;
    }
  }
  return stringify(rules);
}

export async function startPrometheusStack(options: {
  /** host:port Prometheus scrapes (the test's fake service). */
  target: string;
  targetLabels: Record<string, string>;
  rules: string;
  /** The bot's Alertmanager receiver URL and bearer token. */
  webhookUrl: string;
  token: string;
}): Promise<PrometheusStack> {
  requireBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'rollback-bot-prom-'));
  const [promPort, amPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'rules.yaml'), options.rules);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.yaml')],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
      scrape_configs: [
        {
          job_name: 'service',
          static_configs: [{ targets: [options.target], labels: options.targetLabels }],
        },
      ],
    }),
  );
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    stringify({
      route: {
        receiver: 'rollback-bot',
        group_by: ['service', 'environment', 'alertname'],
        group_wait: '1s',
        group_interval: '1s',
        repeat_interval: '1h',
      },
      receivers: [
        {
          name: 'rollback-bot',
          webhook_configs: [
            {
              url: options.webhookUrl,
              send_resolved: true,
              http_config: { authorization: { type: 'Bearer', credentials: options.token } },
            },
          ],
        },
      ],
    }),
  );
  const output: string[] = [];
  const start = (command: string, args: string[]): ChildProcess => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      output.push(`${command}: ${chunk.toString('utf8')}`);
      if (output.length > 400) output.splice(0, output.length - 400);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    return child;
  };
  const alertmanager = start('prometheus-alertmanager', [
    `--config.file=${join(dir, 'alertmanager.yml')}`,
    `--storage.path=${join(dir, 'am')}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    '--cluster.listen-address=',
  ]);
  const prometheus = start('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    '--rules.alert.resend-delay=1s',
  ]);
  const stack: PrometheusStack = {
    prometheusUrl: `http://127.0.0.1:${promPort}`,
    alertmanagerUrl: `http://127.0.0.1:${amPort}`,
    logs: () => output.join(''),
    async stop() {
      await Promise.all(
        [prometheus, alertmanager].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) {
                resolve();
                return;
              }
              child.once('exit', () => {
                resolve();
              });
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitReady(`${stack.alertmanagerUrl}/-/ready`);
    await waitReady(`${stack.prometheusUrl}/-/ready`);
  } catch (error) {
    await stack.stop();
    throw new Error(`${String(error)}\n${stack.logs().slice(-4_000)}`, { cause: error });
  }
  return stack;
}

async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
