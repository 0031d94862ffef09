/**
 * Ack latency of `/rollback status`: the time from sending a signed slash command to the bot's
 * request URL until its HTTP 200 (the ack Slack waits 3 s for). N=2,000 commands, 100 in flight,
 * after a warm-up; against the real bot (createBot) on the memory store and on real Redis, then
 * against a bare Bolt app whose `/rollback` only acks, in the same run, for the ratio.
 *
 *   npx tsx bench/ack-latency.ts        (REDIS_URL, default redis://127.0.0.1:6379)
 *
 * Each server under test runs in its own child process (one core of its own on a 2-core machine);
 * this process holds the load loop (fetch, 100 in flight, requests signed beforehand as Slack signs
 * them) and the Slack simulator, which answers the bot's `auth.test` and receives the response_url
 * posts that answer each command after the ack. The CPU each side used during the run is printed, so
 * a saturated load loop or simulator (rather than the bot) would show. Redis keys live under a unique
 * prefix, deleted afterwards (SCAN + DEL of that prefix only).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { App } from '@slack/bolt';
import { Redis } from 'ioredis';
import { createBot } from '../src/wiring/bot.js';
import { loadManifests } from '../src/config/manifests.js';
import { defaultRegistry } from '../src/executors/default-registry.js';
import { silentLogger } from '../src/lib/logging.js';
import { boltLogger } from '../src/slack/bolt-logger.js';
import { slackSignature, startSlackSimulator, type SlackSimulator } from '../src/simulator/index.js';
import { slashCommandFields } from '../src/simulator/payloads.js';
import { createRedisStore, MemoryStore, type Store } from '../src/store/index.js';
import { deleteKeysWithPrefix } from '../test/support/redis-cleanup.js';

const N = Number(process.env.ACK_BENCH_N ?? 2_000);
const CONCURRENCY = 100;
const WARMUP = 300;
const SIGNING_SECRET = 'bench-signing-secret';
const BOT_TOKEN = 'xoxb-bench';
const CHANNEL = 'C0DEMO';
const USER = 'U0ONCALL1';
const PLAN_DIR = new URL('../manifests/demo/', import.meta.url).pathname;

type Kind = 'memory' | 'redis' | 'bare';

// ---------------------------------------------------------------------------------------------
// Child: one server under test. Prints {"port"} once listening; on "mark" starts counting CPU; on
// "usage" prints {"cpuMs","wallMs"} since the mark; on "stop" stops and exits.

async function serve(kind: Kind): Promise<void> {
  const apiUrl = process.env.SIM_URL ?? '';
  let port: number;
  let stop: () => Promise<void>;
  if (kind === 'bare') {
    const app = new App({
      token: BOT_TOKEN,
      signingSecret: SIGNING_SECRET,
      logger: boltLogger(silentLogger),
      deferInitialization: true,
      clientOptions: { slackApiUrl: apiUrl, retryConfig: { retries: 0 } },
    });
    app.command('/rollback', async ({ ack }) => {
      await ack();
    });
    await app.init();
    const server = (await app.start({ port: 0, host: '127.0.0.1' })) as { address(): { port: number } };
    port = server.address().port;
    stop = () => app.stop().then(() => undefined);
  } else {
    const store: Store =
      kind === 'redis'
        ? await createRedisStore({ url: process.env.REDIS_URL ?? '', prefix: process.env.PREFIX ?? '' })
        : new MemoryStore();
    const registry = defaultRegistry();
    const manifests = await loadManifests(PLAN_DIR, registry);
    const bot = await createBot({
      slack: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl, retries: 0 },
      store,
      catalog: () => manifests,
      registry,
      env: {},
      log: silentLogger,
    });
    port = await bot.start(0, '127.0.0.1');
    stop = async () => {
      await bot.stop(1_000);
      await store.close();
    };
  }
  console.log(JSON.stringify({ port }));
  let cpu = process.cpuUsage();
  let wall = performance.now();
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'mark') {
      cpu = process.cpuUsage();
      wall = performance.now();
      console.log(JSON.stringify({ marked: true }));
    } else if (line === 'usage') {
      const used = process.cpuUsage(cpu);
      console.log(
        JSON.stringify({ cpuMs: (used.user + used.system) / 1_000, wallMs: performance.now() - wall }),
      );
    } else if (line === 'stop') {
      await stop();
      process.exit(0);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Parent: the simulator and the load loop.

interface Server {
  url: string;
  send(line: string): Promise<Record<string, number | boolean>>;
  stop(): void;
  exited: Promise<number | null>;
}

async function startServer(kind: Kind, sim: SlackSimulator, env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, 'serve', kind], {
    env: { ...process.env, ...env, SIM_URL: sim.url },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextJson = async (): Promise<Record<string, number | boolean>> => {
    const next = await lines.next();
    if (next.done === true) throw new Error(`the ${kind} server ended early (exit ${String(await exited)})`);
    return JSON.parse(next.value) as Record<string, number | boolean>;
  };
  const { port } = await nextJson();
  return {
    url: `http://127.0.0.1:${String(port)}/slack/events`,
    send(line) {
      child.stdin.write(`${line}\n`);
      return nextJson();
    },
    stop() {
      child.stdin.write('stop\n');
    },
    exited,
  };
}

interface Prepared {
  body: string;
  headers: Record<string, string>;
}

/** Signed `/rollback <text>` requests, built before the run so the load loop only sends. */
function prepare(sim: SlackSimulator, count: number, text: string): Prepared[] {
  const identity = {
    config: sim.config,
    appId: sim.config.appId,
    teamId: sim.config.teamId,
    verificationToken: 'sim-verification-token',
  };
  const timestamp = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, () => {
    const response = sim.createResponseUrl({ channel: CHANNEL, user: USER });
    const body = new URLSearchParams(
      slashCommandFields(identity, {
        user: USER,
        channel: CHANNEL,
        command: '/rollback',
        text,
        responseUrl: response.url,
        triggerId: sim.issueTrigger(USER),
      }),
    ).toString();
    return {
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body),
      },
    };
  });
}

interface Run {
  latencies: number[];
  failures: number;
  seconds: number;
}

async function load(url: string, requests: Prepared[], concurrency: number): Promise<Run> {
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const request = requests[next++]!;
      const began = performance.now();
      const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
      await response.arrayBuffer();
      latencies.push(performance.now() - began);
      if (response.status !== 200) failures++;
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, failures, seconds: (performance.now() - began) / 1_000 };
}

/** Waits (up to 10 s) until the simulator holds `count` response_url posts; returns how many it holds. */
async function answers(sim: SlackSimulator, count: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (sim.responsePosts().length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return sim.responsePosts().length;
}

interface Figures {
  name: string;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  rps: number;
  failures: number;
  answered: number;
  serverCpu: number;
  loaderCpu: number;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

async function measure(name: string, kind: Kind, env: Record<string, string> = {}): Promise<Figures> {
  const sim = await startSlackSimulator({
    botToken: BOT_TOKEN,
    botUserId: 'UBOT',
    teamId: 'T0BENCH',
    channels: [CHANNEL],
    users: { [USER]: { name: 'oncall' }, U0DECL: { name: 'declarer' } },
    usergroups: { S0ONCALL: [USER] },
  });
  const server = await startServer(kind, sim, env);
  try {
    if (kind !== 'bare') {
      // One active rollback, so `status` lists something (its card goes to the simulator).
      const [declare] = prepare(sim, 1, 'demo-service --to v1.4.1 --reason "bench"');
      await load(server.url, [declare!], 1);
    }
    const expected = (count: number): number => (kind === 'bare' ? 0 : count);
    await load(server.url, prepare(sim, WARMUP, 'status'), CONCURRENCY);
    await answers(sim, expected(WARMUP + (kind === 'bare' ? 0 : 1)));
    const requests = prepare(sim, N, 'status');
    const answeredBefore = sim.responsePosts().length;
    await server.send('mark');
    const loaderCpu = process.cpuUsage();
    const run = await load(server.url, requests, CONCURRENCY);
    const loaderUsed = process.cpuUsage(loaderCpu);
    const serverUsage = await server.send('usage');
    const answered = (await answers(sim, answeredBefore + expected(N))) - answeredBefore;
    server.stop();
    await server.exited;
    const sorted = [...run.latencies].sort((a, b) => a - b);
    return {
      name,
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: sorted.at(-1) ?? NaN,
      rps: N / run.seconds,
      failures: run.failures,
      answered,
      serverCpu: Number(serverUsage['cpuMs']) / Number(serverUsage['wallMs']),
      loaderCpu: (loaderUsed.user + loaderUsed.system) / 1_000 / (run.seconds * 1_000),
    };
  } finally {
    await sim.stop();
  }
}

const ms = (n: number): string => `${n.toFixed(1)} ms`;
const pct = (n: number): string => `${Math.round(n * 100)}%`;

function report(f: Figures): void {
  console.log(
    `${f.name.padEnd(22)} p50 ${ms(f.p50).padStart(8)}  p90 ${ms(f.p90).padStart(8)}  p99 ${ms(f.p99).padStart(8)}` +
      `  max ${ms(f.max).padStart(8)}  ${Math.round(f.rps).toString().padStart(5)} req/s` +
      `  non-200: ${f.failures}` +
      (f.name.startsWith('bare') ? '' : `  answered via response_url: ${f.answered}/${N}`) +
      `  CPU: server ${pct(f.serverCpu)}, load loop + simulator ${pct(f.loaderCpu)} of a core`,
  );
}

async function main(): Promise<void> {
  console.log(
    `/rollback status: ${N} signed slash commands, ${CONCURRENCY} in flight (after ${WARMUP} warm-up), ` +
      `time to the HTTP 200 of /slack/events; each server in its own process`,
  );
  const results: Figures[] = [];
  results.push(await measure('bot, memory store', 'memory'));
  report(results.at(-1)!);

  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench-ack:${process.pid}-${randomBytes(4).toString('hex')}`;
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let redisUp = true;
  try {
    await admin.connect();
    await admin.ping();
  } catch (error) {
    redisUp = false;
    console.log(`bot, Redis store: skipped, Redis at ${url} does not answer (${String(error)})`);
  }
  if (redisUp) {
    try {
      results.push(await measure('bot, Redis store', 'redis', { REDIS_URL: url, PREFIX: prefix }));
      report(results.at(-1)!);
    } finally {
      const deleted = await deleteKeysWithPrefix(admin, prefix);
      console.log(`(deleted the ${deleted} Redis keys under ${prefix}:)`);
    }
  }
  admin.disconnect();

  const bare = await measure('bare Bolt app', 'bare');
  report(bare);
  for (const f of results) {
    console.log(
      `${f.name}: p99 ${(f.p99 / bare.p99).toFixed(1)}x the bare Bolt app's, throughput ${(f.rps / bare.rps).toFixed(2)}x`,
    );
  }
  const failures = [...results, bare].reduce((sum, f) => sum + f.failures, 0);
  const unanswered = results.reduce((sum, f) => sum + (N - f.answered), 0);
  console.log(
    `SUMMARY ack-latency: ${results
      .map((f) => `${f.name} p50 ${ms(f.p50)} p99 ${ms(f.p99)} ${Math.round(f.rps)} req/s`)
      .join('; ')}; bare Bolt p50 ${ms(bare.p50)} p99 ${ms(bare.p99)} ${Math.round(bare.rps)} req/s` +
      `; non-200 ${failures}, unanswered ${unanswered}`,
  );
  process.exitCode = failures > 0 || unanswered > 0 ? 1 : 0;
}

if (process.argv[2] === 'serve') await serve(process.argv[3] as Kind);
else await main();
