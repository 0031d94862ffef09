/**
 * One server under test for bench/ack-latency.ts, in its own process: `bare` (a Bolt app that only
 * acks: `/rollback`, `rollback:*` clicks, and a webhook route that reads the body and answers 200),
 * `memory` or `redis` (the bot, createBot, on that store). Prints {"port"} once listening; on "mark"
 * starts counting CPU; on "usage" prints {"cpuMs","wallMs","maxRss"} since the mark; on "stop" stops
 * and exits. The bot's modules are imported only for the bot: the bare app's memory is Bolt's alone.
 *
 * Environment: SIM_URL (the Slack simulator), SIGNING_SECRET, BOT_TOKEN, ALERT_TOKEN, PLAN_DIR,
 * REDIS_URL and PREFIX (redis), BOT_ROOT: where the bot's modules are, `dist` (the build, as `npm
 * start` runs it: this file then runs on Node's own type stripping, nothing else is compiled on the
 * fly) or `src` (under tsx).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { App } from '@slack/bolt';

type Module<T> = Promise<T>;
const root = new URL(`../${process.env.BOT_ROOT ?? 'src'}/`, import.meta.url);
const load = <T>(path: string): Module<T> => import(new URL(path, root).href) as Module<T>;
const { silentLogger } = await load<typeof import('../src/lib/logging.js')>('lib/logging.js');
const { boltLogger } = await load<typeof import('../src/slack/bolt-logger.js')>('slack/bolt-logger.js');

const kind = process.argv[2];
const apiUrl = process.env.SIM_URL ?? '';
const signingSecret = process.env.SIGNING_SECRET ?? '';
const botToken = process.env.BOT_TOKEN ?? '';

async function bare(): Promise<{ port: number; stop: () => Promise<void> }> {
  const app = new App({
    token: botToken,
    signingSecret,
    logger: boltLogger(silentLogger),
    deferInitialization: true,
    clientOptions: { slackApiUrl: apiUrl, retryConfig: { retries: 0 } },
    customRoutes: [
      {
        path: '/alerts/alertmanager',
        method: 'POST',
        handler: (req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (chunk: Buffer) => chunks.push(chunk));
          req.on('end', () => {
            JSON.parse(Buffer.concat(chunks).toString('utf8'));
            res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
          });
        },
      },
    ],
  });
  app.command('/rollback', async ({ ack }) => {
    await ack();
  });
  app.action(/^rollback:/, async ({ ack }) => {
    await ack();
  });
  await app.init();
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as { address(): { port: number } };
  return { port: server.address().port, stop: () => app.stop().then(() => undefined) };
}

async function bot(): Promise<{ port: number; stop: () => Promise<void> }> {
  const { createBot } = await load<typeof import('../src/wiring/bot.js')>('wiring/bot.js');
  const { loadManifests } = await load<typeof import('../src/config/manifests.js')>('config/manifests.js');
  const { defaultRegistry } = await load<typeof import('../src/executors/default-registry.js')>(
    'executors/default-registry.js',
  );
  const { createRedisStore, MemoryStore } =
    await load<typeof import('../src/store/index.js')>('store/index.js');
  const store =
    kind === 'redis'
      ? await createRedisStore({ url: process.env.REDIS_URL ?? '', prefix: process.env.PREFIX ?? '' })
      : new MemoryStore();
  const registry = defaultRegistry();
  const manifests = await loadManifests(process.env.PLAN_DIR ?? '', registry);
  const created = await createBot({
    slack: { botToken, signingSecret, apiUrl, retries: 0 },
    alertToken: process.env.ALERT_TOKEN,
    store,
    catalog: () => manifests,
    registry,
    env: {},
    log: silentLogger,
  });
  const port = await created.start(0, '127.0.0.1');
  return {
    port,
    stop: async () => {
      await created.stop(1_000);
      await store.close();
    },
  };
}

// BENCH_ALLOC_PROFILE=FILE: a sampling profile of every allocation (kept or collected), written on stop.
const allocations = process.env.BENCH_ALLOC_PROFILE;
const session = allocations ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}

/** The heap at its fullest, sampled: RSS says how much, this says whether it is the JS heap. */
let peakHeap = 0;
setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}, 100).unref();

const { port, stop } = kind === 'bare' ? await bare() : await bot();
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
      JSON.stringify({
        cpuMs: (used.user + used.system) / 1_000,
        wallMs: performance.now() - wall,
        // resourceUsage reports kilobytes.
        maxRss: process.resourceUsage().maxRSS * 1_024,
        peakHeap,
      }),
    );
  } else if (line === 'stop') {
    await stop();
    if (session && allocations) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      writeFileSync(allocations.replace('%k', kind ?? ''), JSON.stringify(profile));
    }
    process.exit(0);
  }
}
