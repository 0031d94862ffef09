/**
 * Start-up with many plans (issue #19): (a) the time from spawning the bot as shipped (`dist/main.js`,
 * configured by its environment alone, on the memory store) to `/readyz` answering 200, with 500
 * generated plans and with 1; (b) the wall time of `rollback-bot validate <folder>` on the same
 * folders. The plans are valid and varied: 1 to 3 strategies of http, command and healthcheck steps,
 * prometheus and healthcheck checks, a prometheus watch, triggers, `${env:...}` secrets and
 * `{{ templates }}`, one file each beside the authority policy. The 1-plan runs are the baseline
 * measured in the same run: what the 500 plans add is the difference. Each figure is the median
 * of 3 runs (interleaved, so a change in the machine's load touches all four alike). Targets: /readyz
 * under 1.5 s, validate under 2 s.
 *
 *   npx tsx bench/startup.ts
 *   STARTUP_BENCH_PLANS=500 STARTUP_BENCH_RUNS=3 BENCH_SMOKE=1 (50 plans, 1 run, from src/ under tsx)
 *   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles every bot and validate process.
 *
 * The bot runs on the memory store: the shipped entry point has no key prefix of its own, and a
 * bench must not touch the data of a bot that may share the Redis database.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { startSlackSimulator, type SlackSimulator } from '../src/simulator/index.js';
import { E2E_POLICY } from '../test/support/plan-files.js';
import { ascending, botModules, percentile, sized, summary, until } from './kit.js';

const PLANS = sized('STARTUP_BENCH_PLANS', 500, 50);
const RUNS = sized('STARTUP_BENCH_RUNS', 3, 1);
/** Starts of each before the runs: the first start after a build reads every module from disk. */
const WARMUP = sized('STARTUP_BENCH_WARMUP', 1, 0);
const READY_TARGET_MS = 1_500;
const VALIDATE_TARGET_MS = 2_000;
const BOT_TOKEN = 'xoxb-bench';
const CHANNEL = 'C0INCIDENTS';
/** The secret the plans name as `${env:BENCH_DEPLOY_TOKEN}`: the bot resolves it at start-up. */
const SECRET_ENV = { BENCH_DEPLOY_TOKEN: 'bench-deploy-token' };

// ---------------------------------------------------------------------------------------------
// The plans.

/** A step of kind `n % 3` (http, command, healthcheck), for plan `plan`. */
function step(plan: string, n: number): string {
  switch (n % 3) {
    case 0:
      return `        - name: Switch ${plan} back to the previous release (${n})
          id: switch${n}
          uses: http
          with:
            method: POST
            url: 'https://deploy.example.com/api/services/{{ service }}/releases/{{ toVersion }}'
            headers: { Authorization: 'Bearer \${env:BENCH_DEPLOY_TOKEN}', Accept: application/json }
            json: { reason: '{{ rollback.reason }}', rollback: '{{ rollback.id }}', step: ${n} }
            expectStatus: [200, 202]
            timeout: 20s
          onFailure: ask`;
    case 1:
      return `        - name: Redeploy ${plan} at the previous version (${n})
          uses: command
          with: { argv: [./scripts/deploy.sh, ${plan}, '{{ environment }}', '{{ toVersion }}'], timeout: 5m }
          onFailure: ${n % 2 === 0 ? 'abort' : 'retry'}`;
    default:
      return `        - name: Wait until ${plan} is ready (${n})
          uses: healthcheck
          with:
            url: 'https://${plan}.{{ environment }}.example.com/ready'
            successes: 2
            attempts: 30
            interval: 5s
            timeout: 3s
            bodyMatch: '"status":\\s*"ready"'`;
  }
}

function prometheus(plan: string, indent: string, op: '<' | '>', value: number): string {
  return `${indent}- name: ${plan} error rate ${op} ${value}
${indent}  uses: prometheus
${indent}  with:
${indent}    url: 'http://prometheus.monitoring:9090'
${indent}    label: error rate
${indent}    query: >-
${indent}      sum(rate(http_requests_total{service="${plan}",code=~"5.."}[2m]))
${indent}      / sum(rate(http_requests_total{service="${plan}"}[2m]))
${indent}    threshold: { op: '${op}', value: ${value} }`;
}

/** Plan `i`: 1 to 3 strategies of 2 to 4 steps each, checks, a watch on every third, triggers. */
function planText(i: number): string {
  const plan = `svc-${String(i).padStart(4, '0')}`;
  const strategies = Array.from({ length: 1 + (i % 3) }, (_, s) => {
    const steps = Array.from({ length: 2 + ((i + s) % 3) }, (_, n) => step(plan, n + s));
    const watch =
      (i + s) % 3 === 0
        ? `\n      watch:\n${prometheus(plan, '        ', '<', 0.05)}\n      watchEvery: 30s`
        : '';
    return `    s${s}:
      steps:
${steps.join('\n')}${watch}
      validate:
${prometheus(plan, '        ', '<', 0.01)}
        - name: ${plan} answers
          uses: healthcheck
          with: { url: 'https://${plan}.{{ environment }}.example.com/health', successes: 3, attempts: 10, interval: 5s }
        - name: Check the ${plan} journey by hand
          uses: manual
          with: { instructions: Open ${plan} and check that it works. }
      stabilize: { for: 5m, interval: 1m, failureLimit: ${s} }`;
  });
  return `apiVersion: rollback-bot/v1
kind: RollbackPlan
metadata:
  name: ${plan}
  description: Generated plan ${i} of the start-up bench.
spec:
  service: ${plan}
  channel: ${CHANNEL}
  environments: [production, staging]
  criticality: ${(['low', 'medium', 'high', 'critical'] as const)[i % 4]}
  rto: 15m
  owner: team-${i % 17}
  authority: default
  defaultStrategy: s0
  strategies:
${strategies.join('\n')}
  triggers:
    - { name: error-rate, match: { alertname: ${plan}-errors }, action: propose, strategy: s0 }
    - { name: health, match: { alertname: ${plan}-down, rollback_trigger: health-checks }, action: auto, delay: 30s }
`;
}

/** A folder with the authority policy and `count` plans, one file each; and the plans' bytes. */
function planFolder(root: string, name: string, count: number): { dir: string; bytes: number } {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'policy.yaml'), E2E_POLICY);
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const text = planText(i);
    bytes += Buffer.byteLength(text);
    writeFileSync(join(dir, `plan-${String(i).padStart(4, '0')}.yaml`), text);
  }
  return { dir, bytes };
}

// ---------------------------------------------------------------------------------------------
// The measurements.

/**
 * Loaded first in every process measured: writes the CPU time it used (user + system) as it exits,
 * the figure least moved by the other work on the machine.
 */
const CPU_PROBE = `data:text/javascript,${encodeURIComponent(
  "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write(`\\nbench-cpu-ms ${(u.user + u.system) / 1000}\\n`); });",
)}`;
const cpuOf = (output: string): number => Number(/bench-cpu-ms ([\d.]+)/.exec(output)?.[1] ?? Number.NaN);

const modules = botModules();
const nodeArgs = [
  ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== ''),
  '--import',
  CPU_PROBE,
  ...modules.nodeArgs,
];
const entry = (path: string): string =>
  join(import.meta.dirname, '..', modules.root, modules.root === 'dist' ? `${path}.js` : `${path}.ts`);
/** The bot's own environment only: nothing of this process (REDIS_URL, NODE_ENV...) leaks in. */
const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };

interface Timing {
  wallMs: number;
  /** The process's CPU time; the bot's to its exit, which it is told to do as soon as it is ready. */
  cpuMs: number;
}

/** Spawn to `/readyz` 200 of the bot on `planDir`; then stops it. Throws when it does not start. */
async function botReady(sim: SlackSimulator, planDir: string): Promise<Timing> {
  const began = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, entry('main')], {
    env: {
      ...baseEnv,
      ...SECRET_ENV,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: 'bench-signing-secret',
      SLACK_API_URL: sim.url,
      ROLLBACK_CONFIG: planDir,
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  let wallMs: number;
  try {
    let port: number | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      output = (output + line + '\n').slice(-4_000);
      const listening = /"port":(\d+)[^\n]*rollback-bot is listening/.exec(line);
      if (listening) {
        port = Number(listening[1]);
        break;
      }
    }
    // Leaving the loop closed the reader: keep the pipe drained, or a chatty bot would block on it.
    child.stdout.resume();
    if (port === undefined)
      throw new Error(`the bot exited (${String(await exited)}) before it listened:\n${output}`);
    const ready = await until(
      () =>
        fetch(`http://127.0.0.1:${port}/readyz`).then(
          (response) => response.status === 200,
          () => false,
        ),
      30_000,
      2,
    );
    wallMs = performance.now() - began;
    if (!ready) throw new Error(`/readyz did not answer 200 in 30 s:\n${output}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return { wallMs, cpuMs: cpuOf(output) };
}

/** `rollback-bot validate <planDir>`; throws unless it passes with `plans` plans. */
async function validate(planDir: string, plans: number): Promise<Timing> {
  const began = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, entry('cli/main'), 'validate', planDir], {
    env: { ...baseEnv, ...SECRET_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const wallMs = performance.now() - began;
  const expected = `${plans} ${plans === 1 ? 'plan' : 'plans'}, 1 authority policy, 0 communications: 0 errors, 0 warnings`;
  if (code !== 0 || !output.includes(expected))
    throw new Error(
      `validate ${planDir} exited ${String(code)}, expected "${expected}":\n${output.slice(-4_000)}`,
    );
  return { wallMs, cpuMs: cpuOf(output) };
}

const median = (values: number[]): number => percentile(ascending(values), 0.5);
const fmt = (value: number): string => `${Math.round(value)} ms`;
const verdict = (value: number, target: number): string =>
  `target <${target}: ${fmt(value)} ${value < target ? 'met' : 'MISSED'}`;

async function main(): Promise<void> {
  console.log(
    `Start-up: ${PLANS} generated plans against 1, ${RUNS} run(s) each, the bot and the CLI from ` +
      `${modules.root === 'dist' ? 'the build (dist/) on plain Node' : 'src/ under tsx'} ${process.version}`,
  );
  const root = mkdtempSync(join(tmpdir(), 'rollback-bot-startup-bench-'));
  const sim = await startSlackSimulator({
    botToken: BOT_TOKEN,
    botUserId: 'UBOT',
    teamId: 'T0BENCH',
    channels: [CHANNEL],
    users: {},
    usergroups: {},
  });
  try {
    const { dir: many, bytes } = planFolder(root, 'many', PLANS);
    const { dir: one } = planFolder(root, 'one', 1);
    console.log(
      `${PLANS} plan files of ${Math.round(bytes / PLANS)} bytes on average (${Math.round(bytes / 1024)} KiB in all)`,
    );
    const ready = { many: [] as Timing[], one: [] as Timing[] };
    const valid = { many: [] as Timing[], one: [] as Timing[] };
    for (let n = 0; n < WARMUP; n++) {
      await botReady(sim, one);
      await validate(one, 1);
    }
    const line = (t: Timing): string => `${fmt(t.wallMs)} (CPU ${fmt(t.cpuMs)})`;
    for (let run = 0; run < RUNS; run++) {
      ready.one.push(await botReady(sim, one));
      ready.many.push(await botReady(sim, many));
      valid.one.push(await validate(one, 1));
      valid.many.push(await validate(many, PLANS));
      console.log(
        `run ${run + 1}: /readyz ${line(ready.many.at(-1)!)} with ${PLANS} plans, ${line(ready.one.at(-1)!)} with 1; ` +
          `validate ${line(valid.many.at(-1)!)} with ${PLANS} plans, ${line(valid.one.at(-1)!)} with 1`,
      );
    }
    const figures = (name: string, many: Timing[], one: Timing[], target: number): string => {
      const wall = { many: median(many.map((t) => t.wallMs)), one: median(one.map((t) => t.wallMs)) };
      const cpu = { many: median(many.map((t) => t.cpuMs)), one: median(one.map((t) => t.cpuMs)) };
      return (
        `${name} with ${PLANS} plans ${verdict(wall.many, target)} (CPU ${fmt(cpu.many)}), ` +
        `with 1 plan ${fmt(wall.one)} (CPU ${fmt(cpu.one)}): the plans add ${fmt(wall.many - wall.one)}, ` +
        `${(wall.many / wall.one).toFixed(2)}x (CPU ${fmt(cpu.many - cpu.one)}, ${(cpu.many / cpu.one).toFixed(2)}x)`
      );
    };
    summary(
      'startup',
      `${figures('bot spawn to /readyz 200', ready.many, ready.one, READY_TARGET_MS)}; ` +
        `${figures('validate', valid.many, valid.one, VALIDATE_TARGET_MS)}; median of ${RUNS}`,
    );
  } finally {
    await sim.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
