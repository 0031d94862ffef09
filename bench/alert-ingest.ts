/**
 * Alert ingestion: the storm of the alerts issue (1,000 Alertmanager webhooks of 10 alerts for 50
 * services, 100 in flight) through the bot's HTTP receiver, on the memory store and on real Redis.
 * Prints webhooks/s, alerts/s, the latency of the receiver's answer (p50 / p99: the sender waits for
 * it, as the alerts are stored before the 200) and the Slack writes it cost. One process holds the
 * bot, the Slack simulator and the load loop, so figures are for comparing the two stores and runs,
 * not absolute capacity; the peak RSS at the end is of that one process. The latency from a webhook to
 * its incident's thread, with the bot in a process of its own, is bench/alert-to-thread.ts's.
 *
 *   npx tsx bench/alert-ingest.ts        (REDIS_URL, default redis://127.0.0.1:6379)
 *   ALERT_BENCH_WEBHOOKS=1000 BENCH_SMOKE=1 (100 webhooks)
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createBot } from '../src/wiring/bot.js';
import { loadManifests } from '../src/config/manifests.js';
import { defaultRegistry } from '../src/executors/default-registry.js';
import { silentLogger } from '../src/lib/logging.js';
import { startSlackSimulator } from '../src/simulator/index.js';
import { createRedisStore, MemoryStore, type Store } from '../src/store/index.js';
import { alertmanagerPayload, stormPlanFile, stormService } from '../test/support/alert-payloads.js';
import { deleteKeysWithPrefix } from '../test/support/redis-cleanup.js';
import { mib, sized, summary } from './kit.js';

const SERVICES = 50;
const WEBHOOKS = sized('ALERT_BENCH_WEBHOOKS', 1_000, 100);
const PER_WEBHOOK = 10;
const IN_FLIGHT = 100;
const STEADY_AFTER = Math.min(200, Math.floor(WEBHOOKS / 5));
const TOKEN = 'bench-alert-token';
const CHANNEL = 'C0INCIDENTS';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function run(kind: 'memory' | 'redis', planFile: string): Promise<string> {
  const prefix = `rollback-bot-bench:alerts:${randomBytes(4).toString('hex')}`;
  const store: Store =
    kind === 'redis' ? await createRedisStore({ url: REDIS_URL, prefix }) : new MemoryStore();
  const sim = await startSlackSimulator({
    botToken: 'xoxb-bench',
    botUserId: 'UBOT',
    teamId: 'T0',
    channels: [CHANNEL],
    users: {},
    usergroups: {},
  });
  const registry = defaultRegistry();
  const manifests = await loadManifests(planFile, registry);
  const bot = await createBot({
    slack: { botToken: 'xoxb-bench', signingSecret: 'bench', apiUrl: sim.url, retries: 0 },
    alertToken: TOKEN,
    store,
    catalog: () => manifests,
    registry,
    env: {},
    log: silentLogger,
  });
  const port = await bot.start(0, '127.0.0.1');
  const startsAt = Date.now() - 60_000;
  const bodies = Array.from({ length: WEBHOOKS }, (_, w) => {
    const service = stormService(w % SERVICES);
    return JSON.stringify(
      alertmanagerPayload(
        Array.from({ length: PER_WEBHOOK }, (_, a) => ({
          name: `A${a}`,
          service,
          fingerprint: `${w}-${a}`,
          startsAt: startsAt + a,
        })),
        `{}:{service="${service}",batch="${w}"}`,
      ),
    );
  });
  const latencies: number[] = [];
  /** Latencies of the webhooks sent after the first burst (which opens the 50 incidents on a cold process). */
  const steady: number[] = [];
  let next = 0;
  let failed = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < bodies.length) {
        const index = next++;
        const body = bodies[index]!;
        const sent = performance.now();
        const response = await fetch(`http://127.0.0.1:${port}/alerts/alertmanager`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body,
        });
        await response.arrayBuffer();
        if (response.status !== 200) failed++;
        latencies.push(performance.now() - sent);
        if (index >= STEADY_AFTER) steady.push(performance.now() - sent);
      }
    }),
  );
  const elapsed = performance.now() - began;
  await bot.threads.settled();
  const open = await bot.incidents.listOpen();
  const alerts = open.reduce((sum, incident) => sum + incident.alerts, 0);
  latencies.sort((a, b) => a - b);
  steady.sort((a, b) => a - b);
  const posts = sim.callsTo('chat.postMessage').length;
  const updates = sim.callsTo('chat.update').length;
  console.log(
    `${kind.padEnd(6)} ${WEBHOOKS} webhooks in ${(elapsed / 1000).toFixed(2)} s: ` +
      `${Math.round((WEBHOOKS * 1000) / elapsed)} webhooks/s, ${Math.round((WEBHOOKS * PER_WEBHOOK * 1000) / elapsed)} alerts/s; ` +
      `answer p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms ` +
      `(after the first ${STEADY_AFTER}: p50 ${percentile(steady, 50).toFixed(1)} ms, p99 ${percentile(steady, 99).toFixed(1)} ms); ` +
      `${open.length} incidents holding ${alerts} alerts; Slack ${posts} posts + ${updates} updates; ${failed} non-200`,
  );
  if (kind === 'redis') {
    const redis = new Redis(REDIS_URL);
    const bytes = await redis.memory('USAGE', `${prefix}:docs:incidents`);
    console.log(
      `redis  the ${open.length} incident documents (one hash) use ${String(bytes)} bytes, ${Math.round(Number(bytes) / Math.max(open.length, 1))} per incident of ${(WEBHOOKS / SERVICES) * PER_WEBHOOK} alerts`,
    );
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  }
  await bot.stop(1_000);
  await sim.stop();
  await store.close();
  failures += failed;
  return (
    `${kind} ${Math.round((WEBHOOKS * 1000) / elapsed)} webhooks/s, answer p99 ${percentile(latencies, 99).toFixed(1)} ms ` +
    `(after the first ${STEADY_AFTER}: ${percentile(steady, 99).toFixed(1)} ms), Slack ${posts} posts + ${updates} updates`
  );
}

let failures = 0;

const planFile = stormPlanFile(SERVICES, CHANNEL);
try {
  const memory = await run('memory', planFile);
  const redis = await run('redis', planFile);
  summary(
    'alert-ingest',
    `${WEBHOOKS} webhooks of ${PER_WEBHOOK} alerts for ${SERVICES} services, ${IN_FLIGHT} in flight: ${memory}; ${redis}; ` +
      `peak RSS ${mib(process.resourceUsage().maxRSS * 1_024)} (the bot, the Slack simulator and the load in one process); ` +
      `non-200 ${failures}`,
  );
  process.exitCode = failures > 0 ? 1 : 0;
} finally {
  rmSync(dirname(planFile), { recursive: true, force: true });
}
