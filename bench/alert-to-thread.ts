/**
 * Alert to incident thread (issue #19): the time from an Alertmanager webhook being sent until the
 * incident it opened has its top-level message in Slack, at 50 webhooks/s sustained for 60 s, and
 * the peak RSS of the bot meanwhile. The bot is the build (`dist/`, bench/ack-server.ts's `redis`
 * server: createBot on the Redis store under a prefix of its own, deleted after) in a process of its
 * own; this process holds the Slack simulator, which timestamps each chat.postMessage as it arrives,
 * and the load, sent on a fixed schedule whatever the answers (an open loop, as alerts arrive).
 *
 * Each webhook opens an incident: webhook k fires one alert for service k mod 100 and resolves the
 * alert webhook k-50 fired, which closes that incident (every alert resolved, no rollback), so a
 * service's next alert, two seconds later, opens a new one. 100 plans, 50 incidents open at a time,
 * each living a second: a stream of short incidents, each costing a parent message, a reply and a
 * redraw when it closes. The answer of a webhook names the incident it opened; the parent message
 * carries the incident's id. Target: p99 under 1 s. The storm (1,000 webhooks of 10 alerts at
 * once) is bench/alert-ingest.ts's.
 *
 *   npx tsx bench/alert-to-thread.ts        (REDIS_URL, default redis://127.0.0.1:6379)
 *   THREAD_BENCH_SECONDS=60 THREAD_BENCH_RATE=50 BENCH_SMOKE=1 (5 s)
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSlackSimulator } from '../src/simulator/index.js';
import {
  alertmanagerPayload,
  stormPlanFile,
  stormService,
  type TestAlert,
} from '../test/support/alert-payloads.js';
import {
  ascending,
  botModules,
  mib,
  ms,
  percentile,
  redisPrefix,
  REDIS_URL,
  sized,
  startBenchServer,
  summary,
  until,
  type BenchServer,
} from './kit.js';

const SECONDS = sized('THREAD_BENCH_SECONDS', 60, 5);
const RATE = sized('THREAD_BENCH_RATE', 50, 50);
const SERVICES = 100;
/** Webhook k resolves the alert of webhook k - CLOSE_AFTER: half the rotation, one second at 50/s. */
const CLOSE_AFTER = SERVICES / 2;
const TARGET_P99_MS = 1_000;
const RSS_TARGET_MIB = 250;
const SIGNING_SECRET = 'bench-signing-secret';
const BOT_TOKEN = 'xoxb-bench';
const ALERT_TOKEN = 'bench-alert-token';
const CHANNEL = 'C0INCIDENTS';

interface Sent {
  at: number;
  alert: TestAlert;
}

function webhook(k: number, sent: readonly Sent[]): { alert: TestAlert; body: string } {
  const alert: TestAlert = {
    name: 'HighErrorRate',
    service: stormService(k % SERVICES),
    fingerprint: `fp-${k}`,
    startsAt: Date.now(),
  };
  const closing = sent[k - CLOSE_AFTER];
  const alerts =
    closing === undefined
      ? [alert]
      : [alert, { ...closing.alert, status: 'resolved' as const, endsAt: Date.now() }];
  return {
    alert,
    body: JSON.stringify(alertmanagerPayload(alerts, `{}:{alertname="HighErrorRate",batch="${k}"}`)),
  };
}

interface Answer {
  status: number;
  /** The incident the webhook's firing alert opened, if it opened one. */
  opened?: string;
}

async function post(port: number, body: string): Promise<Answer> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/alerts/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
      body,
    });
    const answer = (await response.json().catch(() => ({}))) as {
      incidents?: Array<{ id: string; opened: boolean }>;
    };
    const opened = answer.incidents?.find((incident) => incident.opened)?.id;
    return { status: response.status, ...(opened === undefined ? {} : { opened }) };
  } catch {
    return { status: 0 };
  }
}

async function main(): Promise<void> {
  const total = SECONDS * RATE;
  console.log(
    `Alert to thread: ${RATE} webhooks/s for ${SECONDS} s (${total}), each opening an incident of one of ` +
      `${SERVICES} services and closing the one opened ${CLOSE_AFTER / RATE} s before`,
  );
  const redis = await redisPrefix('thread');
  if (!redis.up) {
    summary('alert-to-thread', `not run: Redis at ${REDIS_URL} does not answer`);
    process.exitCode = 1;
    return;
  }
  const sim = await startSlackSimulator({
    botToken: BOT_TOKEN,
    botUserId: 'UBOT',
    teamId: 'T0BENCH',
    channels: [CHANNEL],
    users: {},
    usergroups: {},
  });
  /** When each incident's top-level message reached Slack, by incident id. */
  const posted = new Map<string, number>();
  let seen = 0;
  sim.onChange(() => {
    const now = performance.now();
    for (; seen < sim.calls.length; seen++) {
      const call = sim.calls[seen]!;
      if (call.method !== 'chat.postMessage' || call.args.thread_ts !== undefined || call.status !== 200)
        continue;
      const id = /Incident `([^`]+)`/.exec(JSON.stringify(call.args.blocks))?.[1];
      if (id !== undefined && !posted.has(id)) posted.set(id, now);
    }
  });
  const planFile = stormPlanFile(SERVICES, CHANNEL);
  let server: BenchServer | undefined;
  try {
    const modules = botModules();
    console.log(
      `the bot runs ${modules.root === 'dist' ? 'the build (dist/), on plain Node' : 'src/ under tsx'}`,
    );
    server = await startBenchServer('redis', modules, {
      SIM_URL: sim.url,
      SIGNING_SECRET,
      BOT_TOKEN,
      ALERT_TOKEN,
      PLAN_DIR: planFile,
      REDIS_URL,
      PREFIX: redis.prefix,
    });
    const port = server.port;

    const sent: Sent[] = [];
    const answers: Array<Promise<Answer>> = [];
    const began = performance.now();
    for (let k = 0; k < total; k++) {
      // An open loop: each webhook leaves at its time, however slowly the bot answers the others.
      const due = began + (k * 1_000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const { alert, body } = webhook(k, sent);
      sent.push({ at: performance.now(), alert });
      answers.push(post(port, body));
    }
    const sendSeconds = (performance.now() - began) / 1_000;
    const answered = await Promise.all(answers);
    const opened = answered.flatMap((answer, k) =>
      answer.opened === undefined ? [] : [{ id: answer.opened, at: sent[k]!.at }],
    );
    await until(() => opened.every(({ id }) => posted.has(id)), 30_000, 50);
    const latencies = opened.flatMap(({ id, at }) => {
      const at2 = posted.get(id);
      return at2 === undefined ? [] : [at2 - at];
    });
    const usage = await server.send('usage');

    const sorted = ascending(latencies);
    const p50 = percentile(sorted, 0.5);
    const p99 = percentile(sorted, 0.99);
    const refused = answered.filter((answer) => answer.status !== 200).length;
    const unposted = opened.length - latencies.length;
    const notOpened = total - refused - opened.length;
    const rss = usage.maxRss!;
    console.log(
      `sent ${total} webhooks in ${sendSeconds.toFixed(1)} s (${(total / sendSeconds).toFixed(1)}/s); ${opened.length} opened an incident, ` +
        `${notOpened} joined one still open, ${refused} not answered 200; ${unposted} incidents never posted in 30 s`,
    );
    console.log(
      `webhook sent -> incident message in Slack: p50 ${ms(p50)}, p90 ${ms(percentile(sorted, 0.9))}, ` +
        `p99 ${ms(p99)}, max ${ms(sorted.at(-1) ?? Number.NaN)}; Slack calls ${sim.calls.length}`,
    );
    console.log(`the bot: peak RSS ${mib(rss)}, peak JS heap ${mib(usage.peakHeap!)}`);
    summary(
      'alert-to-thread',
      `${RATE} webhooks/s for ${SECONDS} s (sent at ${(total / sendSeconds).toFixed(1)}/s), webhook to incident message ` +
        `p50 ${ms(p50)}, p99 target <${TARGET_P99_MS} ms: ${ms(p99)} ${p99 < TARGET_P99_MS ? 'met' : 'MISSED'}; ` +
        `bot peak RSS target <${RSS_TARGET_MIB} MiB: ${mib(rss)} ${rss < RSS_TARGET_MIB * 1_048_576 ? 'met' : 'MISSED'}; ` +
        `incidents opened ${opened.length}/${total}, never posted ${unposted}, non-200 ${refused}`,
    );
    // Wrong outcomes, not slow ones: a refused webhook, an incident never posted, or none opened.
    process.exitCode = refused > 0 || unposted > 0 || opened.length === 0 ? 1 : 0;
  } finally {
    await server?.stop();
    await sim.stop();
    const deleted = await redis.cleanup();
    console.log(`(deleted the ${deleted} Redis keys under ${redis.prefix}:)`);
    rmSync(dirname(planFile), { recursive: true, force: true });
  }
}

await main();
