/**
 * Ack latency and throughput: the time from sending a request to the bot until its HTTP 200 (the ack
 * Slack waits 3 s for; an alert sender waits for it too), for four journeys: `/rollback status`,
 * `/rollback help`, a click on a card's Approve button (by someone who may not approve: refused
 * with an ephemeral, so the card does not change between clicks) and an Alertmanager webhook (one
 * alert of a firing group, for one of ten services). Each at 10 and 100 in flight, against the real bot (createBot) on
 * the memory store and on real Redis, and against a bare Bolt app that only acks (its webhook route
 * reads the body and answers 200), all in the same run: each journey and level is measured on the
 * three servers back to back, so a change in the machine's load touches all three alike.
 *
 *   npx tsx bench/ack-latency.ts        (REDIS_URL, default redis://127.0.0.1:6379)
 *   ACK_BENCH_N=2000 ACK_BENCH_WARMUP=200 ACK_BENCH_ROUNDS=1 BENCH_SMOKE=1 (a few requests)
 *   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the three servers.
 *
 * Each server runs in its own child process, started once; this process holds the load loop
 * (node:http with keep-alive, requests signed beforehand as Slack signs them) and the Slack simulator,
 * which receives what the bot sends after the ack (response_url posts, ephemerals, incident threads).
 * Figures per run: p50/p99 of the ack, requests per second, the server's CPU per request (the figure
 * least moved by other work on the machine), and at the end each server's peak RSS. The targets
 * (issue #19): p99 at most 1.5x bare Bolt's, throughput at least 0.6x, peak RSS under 250 MiB.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { slackSignature, startSlackSimulator, type SlackSimulator } from '../src/simulator/index.js';
import { findButton, type FoundButton } from '../src/simulator/buttons.js';
import { blockActionsPayload, slashCommandFields, type PayloadIdentity } from '../src/simulator/payloads.js';
import { alertmanagerPayload, stormPlanFile, stormService } from '../test/support/alert-payloads.js';
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
  type ServerKind,
} from './kit.js';

const N = sized('ACK_BENCH_N', 2_000, 20);
/** ACK_BENCH_JOURNEYS=status,click and ACK_BENCH_KINDS=bare,memory narrow a run (for profiling). */
const only = (name: string): string[] | undefined => process.env[name]?.split(',').filter((x) => x !== '');
const WARMUP = sized('ACK_BENCH_WARMUP', 200, 5);
const ROUNDS = sized('ACK_BENCH_ROUNDS', 1, 1);
const LEVELS = [10, 100] as const;
const ALL_JOURNEYS = ['status', 'help', 'click', 'alert'] as const;
type Journey = (typeof ALL_JOURNEYS)[number];
const JOURNEYS = ALL_JOURNEYS.filter((j) => only('ACK_BENCH_JOURNEYS')?.includes(j) ?? true);
const SIGNING_SECRET = 'bench-signing-secret';
const BOT_TOKEN = 'xoxb-bench';
const ALERT_TOKEN = 'bench-alert-token';
const CHANNEL = 'C0DEMO';
/** On call: declares the rollback the card belongs to. */
const ONCALL = 'U0ONCALL1';
/** Holds no role: every Approve is refused, so the card stays as it is between clicks. */
const VIEWER = 'U0VIEWER';
const ALERT_SERVICES = 10;

type Kind = ServerKind;
const NAMES: Record<Kind, string> = { bare: 'bare Bolt', memory: 'bot, memory', redis: 'bot, Redis' };

// ---------------------------------------------------------------------------------------------
// Parent: the simulator, the servers and the load loop.

interface Prepared {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

function identityOf(sim: SlackSimulator): PayloadIdentity {
  return {
    config: sim.config,
    appId: sim.config.appId,
    teamId: sim.config.teamId,
    verificationToken: 'sim-verification-token',
  };
}

function signed(form: string): Prepared {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    path: '/slack/events',
    body: Buffer.from(form),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, form),
    },
  };
}

function command(sim: SlackSimulator, text: string, user = ONCALL): Prepared {
  const response = sim.createResponseUrl({ channel: CHANNEL, user });
  const fields = slashCommandFields(identityOf(sim), {
    user,
    channel: CHANNEL,
    command: '/rollback',
    text,
    responseUrl: response.url,
    triggerId: sim.issueTrigger(user),
  });
  return signed(new URLSearchParams(fields).toString());
}

let clicks = 0;
function click(sim: SlackSimulator, button: FoundButton): Prepared {
  const response = sim.createResponseUrl({
    channel: button.channel,
    user: VIEWER,
    messageTs: button.messageTs,
    ephemeral: false,
  });
  const message = button.message;
  // Distinct action_ts per click: each is a new click, not Slack's redelivery of one.
  const actionTs = (Date.now() / 1000 + ++clicks / 1e6).toFixed(6);
  const payload = blockActionsPayload(identityOf(sim), {
    user: VIEWER,
    button,
    responseUrl: response.url,
    triggerId: sim.issueTrigger(VIEWER),
    actionTs,
    ...(message === undefined
      ? {}
      : {
          message: {
            type: 'message',
            user: message.user,
            bot_id: message.botId,
            app_id: sim.config.appId,
            text: message.text,
            ts: message.ts,
            team: sim.config.teamId,
            blocks: message.blocks,
          },
        }),
  });
  return signed(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
}

let alerts = 0;
/**
 * One alert per webhook, from a pool of 20 per service (a group that keeps firing), each sent with
 * a start of its own: a new episode, merged into the service's open incident, never a redelivery. The
 * incidents stay the size real ones have; bench/alert-ingest.ts has the storm.
 */
function alert(): Prepared {
  const n = ++alerts;
  const service = stormService(n % ALERT_SERVICES);
  const body = JSON.stringify(
    alertmanagerPayload(
      [{ name: 'HighErrorRate', service, fingerprint: `fp-${n % 200}`, startsAt: Date.now() - 60_000 + n }],
      `{}:{service="${service}"}`,
    ),
  );
  return {
    path: '/alerts/alertmanager',
    body: Buffer.from(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
  };
}

interface Run {
  latencies: number[];
  failures: number;
  seconds: number;
}

/** Sends every request, `inFlight` at a time, over kept-alive connections; times each to its answer. */
async function load(port: number, requests: Prepared[], inFlight: number): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const one = (prepared: Prepared): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: prepared.path,
          method: 'POST',
          agent,
          headers: { ...prepared.headers, 'content-length': String(prepared.body.length) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            resolve(res.statusCode ?? 0);
          });
        },
      );
      req.on('error', reject);
      req.end(prepared.body);
    });
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const prepared = requests[next++]!;
      const began = performance.now();
      const status = await one(prepared).catch(() => 0);
      latencies.push(performance.now() - began);
      if (status !== 200) failures++;
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  agent.destroy();
  return { latencies, failures, seconds: (performance.now() - began) / 1_000 };
}

interface Figures {
  kind: Kind;
  journey: Journey;
  inFlight: number;
  p50: number;
  p99: number;
  rps: number;
  cpuPerRequest: number;
  failures: number;
}

/** The button the load clicks: Approve on the card of the rollback the server declared. */
async function setUp(server: BenchServer, sim: SlackSimulator): Promise<FoundButton> {
  const before = new Set(sim.allMessages().map((m) => m.ts));
  const declared = await load(server.port, [command(sim, 'demo-service --to v1.4.1 --reason "bench"')], 1);
  if (declared.failures > 0) throw new Error(`${server.kind}: the declaration was refused`);
  let button: FoundButton | undefined;
  const found = await until(() => {
    try {
      const candidate = findButton(sim, { user: VIEWER, actionId: 'rollback:approve', channel: CHANNEL });
      if (before.has(candidate.messageTs)) return false;
      button = candidate;
      return true;
    } catch {
      return false;
    }
  }, 15_000);
  if (!found || button === undefined) throw new Error(`${server.kind}: no card with an Approve button`);
  return button;
}

function prepare(journey: Journey, count: number, sim: SlackSimulator, button: FoundButton): Prepared[] {
  return Array.from({ length: count }, () => {
    switch (journey) {
      case 'status':
        return command(sim, 'status');
      case 'help':
        return command(sim, 'help');
      case 'click':
        return click(sim, button);
      case 'alert':
        return alert();
    }
  });
}

async function measure(
  server: BenchServer,
  sim: SlackSimulator,
  button: FoundButton,
  journey: Journey,
  inFlight: number,
): Promise<Figures> {
  await load(server.port, prepare(journey, WARMUP, sim, button), inFlight);
  const requests = prepare(journey, N, sim, button);
  await server.send('mark');
  const run = await load(server.port, requests, inFlight);
  const usage = await server.send('usage');
  const sorted = ascending(run.latencies);
  return {
    kind: server.kind,
    journey,
    inFlight,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    rps: N / run.seconds,
    cpuPerRequest: usage.cpuMs! / N,
    failures: run.failures,
  };
}

/** The demo plan (status, clicks) and ten plans for the alerts, in one directory. */
function planDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollback-bot-ack-bench-'));
  copyFileSync(new URL('../manifests/demo/demo-plan.yaml', import.meta.url), join(dir, 'demo-plan.yaml'));
  const storm = stormPlanFile(ALERT_SERVICES, CHANNEL);
  writeFileSync(join(dir, 'alert-plans.yaml'), readFileSync(storm));
  rmSync(join(storm, '..'), { recursive: true, force: true });
  return dir;
}

const median = (values: number[]): number => percentile(ascending(values), 0.5);

async function main(): Promise<void> {
  console.log(
    `Ack latency: ${N} requests per run after ${WARMUP} warm-up, at ${LEVELS.join(' and ')} in flight, ` +
      `${ROUNDS} round(s); journeys ${JOURNEYS.join(', ')}; each server in its own process`,
  );
  const sim = await startSlackSimulator({
    botToken: BOT_TOKEN,
    botUserId: 'UBOT',
    teamId: 'T0BENCH',
    channels: [CHANNEL],
    users: { [ONCALL]: { name: 'oncall' }, [VIEWER]: { name: 'viewer' } },
    usergroups: { S0ONCALL: [ONCALL] },
  });
  const planDir = planDirectory();
  const redis = await redisPrefix('ack');
  const servers: BenchServer[] = [];
  try {
    const kinds = only('ACK_BENCH_KINDS') ?? ['bare', 'memory', 'redis'];
    const modules = botModules();
    console.log(
      `the servers run ${modules.root === 'dist' ? 'the build (dist/), on plain Node' : 'src/ under tsx'}`,
    );
    const env = { SIM_URL: sim.url, SIGNING_SECRET, BOT_TOKEN, ALERT_TOKEN };
    const wanted: Array<[Kind, Record<string, string>]> = [['bare', env]];
    if (kinds.includes('memory')) wanted.push(['memory', { ...env, PLAN_DIR: planDir }]);
    if (!kinds.includes('redis')) console.log('bot, Redis: not asked for');
    else if (redis.up) wanted.push(['redis', { ...env, PLAN_DIR: planDir, REDIS_URL, PREFIX: redis.prefix }]);
    else console.log(`bot, Redis: skipped, Redis at ${REDIS_URL} does not answer`);
    // Started together (start-up is not measured); kept in this order, the bare app first.
    const started = await Promise.allSettled(
      wanted.map(([kind, vars]) => startBenchServer(kind, modules, vars)),
    );
    for (const outcome of started) if (outcome.status === 'fulfilled') servers.push(outcome.value);
    for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
    // A second for the servers to settle before their idle RSS is read (a figure smoke does not need).
    await new Promise((resolve) => setTimeout(resolve, sized('ACK_BENCH_SETTLE_MS', 1_000, 0)));
    for (const server of servers) {
      const idle = await server.send('usage');
      console.log(`${NAMES[server.kind]}: idle RSS ${mib(idle.maxRss!)}, JS heap ${mib(idle.peakHeap!)}`);
    }
    const buttons = new Map<Kind, FoundButton>();
    for (const server of servers.filter((s) => s.kind !== 'bare'))
      buttons.set(server.kind, await setUp(server, sim));
    // The bare app is sent the same payloads as the memory bot (it reads, verifies and acks them).
    buttons.set('bare', buttons.get('memory') ?? buttons.get('redis')!);

    const all: Figures[] = [];
    console.log(
      `${'journey'.padEnd(7)} ${'in flight'.padStart(9)}  ${'server'.padEnd(12)} ${'p50'.padStart(9)} ${'p99'.padStart(9)}` +
        ` ${'req/s'.padStart(6)} ${'CPU/req'.padStart(9)}  p99 ratio  req/s ratio  non-200`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      for (const journey of JOURNEYS) {
        for (const inFlight of LEVELS) {
          let bare: Figures | undefined;
          for (const server of servers) {
            const f = await measure(server, sim, buttons.get(server.kind)!, journey, inFlight);
            all.push(f);
            if (server.kind === 'bare') bare = f;
            const ratios =
              bare === undefined || f === bare
                ? ''.padStart(22)
                : `${(f.p99 / bare.p99).toFixed(2).padStart(8)}x ${(f.rps / bare.rps).toFixed(2).padStart(11)}x`;
            console.log(
              `${journey.padEnd(7)} ${String(inFlight).padStart(9)}  ${NAMES[f.kind].padEnd(12)} ${ms(f.p50).padStart(9)} ` +
                `${ms(f.p99).padStart(9)} ${Math.round(f.rps).toString().padStart(6)} ${ms(f.cpuPerRequest).padStart(9)}` +
                `  ${ratios}  ${f.failures}`,
            );
          }
        }
      }
    }

    // Ratios per journey and level (median over rounds), then the worst of them.
    const ratio = (kind: Kind, pick: (f: Figures) => number): Array<{ key: string; value: number }> =>
      JOURNEYS.flatMap((journey) =>
        LEVELS.map((inFlight) => {
          const of = (k: Kind): Figures[] =>
            all.filter((f) => f.kind === k && f.journey === journey && f.inFlight === inFlight);
          const mine = of(kind);
          const base = of('bare');
          const values = mine.map((f, i) => pick(f) / pick(base[i]!));
          return { key: `${journey}@${inFlight}`, value: median(values) };
        }),
      );
    const usages = new Map<Kind, number>();
    for (const server of servers) {
      const usage = await server.send('usage');
      usages.set(server.kind, usage.maxRss!);
      console.log(
        `${NAMES[server.kind]}: peak RSS ${mib(usage.maxRss!)}, peak JS heap ${mib(usage.peakHeap!)}`,
      );
    }
    const parts: string[] = [];
    for (const kind of ['memory', 'redis'] as const) {
      if (!servers.some((s) => s.kind === kind)) continue;
      const p99 = ratio(kind, (f) => f.p99).sort((a, b) => b.value - a.value)[0]!;
      const rps = ratio(kind, (f) => f.rps).sort((a, b) => a.value - b.value)[0]!;
      const cpu = ratio(kind, (f) => f.cpuPerRequest).sort((a, b) => b.value - a.value)[0]!;
      parts.push(
        `${NAMES[kind]}: worst p99 ${p99.value.toFixed(2)}x bare (${p99.key}; target <=1.5x), ` +
          `worst throughput ${rps.value.toFixed(2)}x (${rps.key}; target >=0.6x), ` +
          `worst CPU/request ${cpu.value.toFixed(2)}x (${cpu.key}), peak RSS ${mib(usages.get(kind)!)} (target <250 MiB)`,
      );
    }
    const failures = all.reduce((sum, f) => sum + f.failures, 0);
    summary(
      'ack-latency',
      `${parts.join('; ')}; bare Bolt peak RSS ${mib(usages.get('bare')!)}; non-200 ${failures}`,
    );
    process.exitCode = failures > 0 ? 1 : 0;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await sim.stop();
    const deleted = await redis.cleanup();
    if (redis.up) console.log(`(deleted the ${deleted} Redis keys under ${redis.prefix}:)`);
    rmSync(planDir, { recursive: true, force: true });
  }
}

await main();
