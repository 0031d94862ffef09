/**
 * Many rollbacks at once: 200 services in one plan file, each rolled back by 3 `http` steps against a
 * local server that answers at once. The whole bot (the test harness: real Bolt, real Redis, the
 * Slack simulator) declares the 200 by `/rollback` (not timed), then the 200 Approve clicks are sent
 * together. Figures: for each rollback, the time from its click being sent (its request handed to
 * fetch) to its first step's request reaching the local server, p50 and p99 (target p99 < 100 ms,
 * issue #19); and that every rollback resolved with a complete history: DECLARE, APPROVE, then
 * STEP_STARTED and STEP_SUCCEEDED per step, versions without a gap, an intact audit chain, and each
 * step's request received exactly once. The bench exits non-zero when one did not.
 *
 *   npx tsx bench/many-rollbacks.ts   (REDIS_URL, default redis://127.0.0.1:6379)
 *   MANY_BENCH_ROLLBACKS=200 MANY_BENCH_STEPS=3
 */
import { performance } from 'node:perf_hooks';
import { verifyAuditChain } from '../src/lib/audit-chain.js';
import {
  CHANNEL,
  declareBySlash,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../test/support/bot-harness.js';
import { ascending, ms, percentile, REDIS_URL, sized, summary, until } from './kit.js';
import { httpPlanFile, startStepTarget } from './step-target.js';

const ROLLBACKS = sized('MANY_BENCH_ROLLBACKS', 200, 10);
const STEPS = sized('MANY_BENCH_STEPS', 3, 3);
/** Declarations in flight at once (they are set-up, not measured). */
const DECLARING = 8;
const TARGET_P99_MS = 100;

const service = (n: number): string => `many-${String(n).padStart(3, '0')}`;

/** The events a rollback of STEPS steps that resolved untroubled has, in order. */
const EXPECTED = [
  'DECLARE',
  'APPROVE',
  ...Array.from({ length: STEPS }, () => ['STEP_STARTED', 'STEP_SUCCEEDED']).flat(),
];

/** What is wrong with the history of this rollback (undefined: nothing). */
async function historyProblem(h: BotHarness, id: string, stepRequests: number): Promise<string | undefined> {
  const record = await h.store.getRollback(id);
  if (record?.state !== 'resolved') return `state ${record?.state ?? 'missing'}`;
  const audit = await h.store.readAudit(id);
  const events = audit.map((entry) => entry.event);
  if (events.join() !== EXPECTED.join()) return `events ${events.join(' ')}`;
  if (audit.some((entry, i) => entry.version !== i + 1) || record.version !== audit.length)
    return `versions ${audit.map((entry) => entry.version).join(',')} (record ${record.version})`;
  const chain = verifyAuditChain({ rollbackId: id, entries: audit, record });
  if (chain.status !== 'verified') return `audit chain ${chain.status}`;
  if (stepRequests !== STEPS) return `${stepRequests} step requests for ${STEPS} steps`;
  return undefined;
}

async function main(): Promise<void> {
  console.log(
    `Many rollbacks: ${ROLLBACKS} services of ${STEPS} http steps each (answered at once), ` +
      `all approved together; the bot in this process on Redis (${REDIS_URL})`,
  );
  const target = await startStepTarget(() => 0);
  const services = Array.from({ length: ROLLBACKS }, (_, n) => service(n));
  const plans = httpPlanFile(
    target.url,
    services.map((name) => ({ service: name, steps: STEPS })),
    CHANNEL,
  );
  const h = await startBotHarness({ planFile: plans.path, redisUrl: REDIS_URL });
  const firstStepAt = new Map<string, number>();
  // Watched through the engine's commits, not by polling the store: 200 reads every poll would load
  // the very process (the bot's) being measured.
  const final = new Set<string>();
  const approvedAt = new Map<string, number>();
  h.bot.runtime.engine.onCommitted(({ rollback, audit }) => {
    if (rollback.final) final.add(rollback.id);
    if (audit.some((entry) => entry.event === 'APPROVE')) approvedAt.set(rollback.id, performance.now());
  });
  target.onArrival((request) => {
    const [, name, step] = request.path.split('/');
    if (step === '1' && name !== undefined && !firstStepAt.has(name))
      firstStepAt.set(name, request.arrivedAt);
  });
  try {
    const declaring = performance.now();
    const ids = new Map<string, string>();
    let next = 0;
    await Promise.all(
      Array.from({ length: DECLARING }, async () => {
        while (next < services.length) {
          const name = services[next++]!;
          ids.set(name, await declareBySlash(h, `${name} --env production --to v1 --reason "bench"`));
        }
      }),
    );
    console.log(`declared ${ids.size} in ${ms(performance.now() - declaring)}`);

    // Each click's request is handed to fetch within driver.click's synchronous part: the time
    // taken just after the call is when that click was sent.
    const sentAt = new Map<string, number>();
    const clicks = services.map((name) => {
      const click = h.driver.click({
        user: PEOPLE.oncall,
        actionId: 'rollback:approve',
        value: forRollback(ids.get(name)!),
      });
      sentAt.set(name, performance.now());
      return click;
    });
    const sendingMs = sentAt.get(services.at(-1)!)! - sentAt.get(services[0]!)!;
    const acks = await Promise.all(clicks);
    const refused = acks.filter((ack) => ack.status !== 200).length;
    const allResolved = await until(() => [...ids.values()].every((id) => final.has(id)), 90_000, 20);
    const resolvedMs = performance.now() - sentAt.get(services[0]!)!;

    /** `to - from` for every rollback that has both, ascending. */
    const spans = (from: (name: string) => number | undefined, to: (name: string) => number | undefined) =>
      ascending(
        services.flatMap((name) => {
          const [start, end] = [from(name), to(name)];
          return start === undefined || end === undefined ? [] : [end - start];
        }),
      );
    const approved = (name: string): number | undefined => approvedAt.get(ids.get(name)!);
    const latencies = spans(
      (name) => sentAt.get(name),
      (name) => firstStepAt.get(name),
    );
    const toApproval = spans((name) => sentAt.get(name), approved);
    const approvalToStep = spans(approved, (name) => firstStepAt.get(name));
    const stepRequests = new Map<string, number>();
    for (const request of target.requests) {
      const name = request.path.split('/')[1] ?? '';
      stepRequests.set(name, (stepRequests.get(name) ?? 0) + 1);
    }
    const problems: string[] = [];
    for (const name of services) {
      const problem = await historyProblem(h, ids.get(name)!, stepRequests.get(name) ?? 0);
      if (problem !== undefined) problems.push(`${name} (${ids.get(name)}): ${problem}`);
    }
    for (const problem of problems.slice(0, 10)) console.log(`incomplete: ${problem}`);
    const complete = ROLLBACKS - problems.length;
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    console.log(
      `clicks sent over ${ms(sendingMs)}, non-200 acks ${refused}; first click to all final ${ms(resolvedMs)}` +
        `${allResolved ? '' : ' (timed out)'}; click to first step: p50 ${ms(p50)}, p99 ${ms(p99)}, ` +
        `max ${ms(latencies.at(-1) ?? Number.NaN)} over ${latencies.length}; of which click to APPROVE committed ` +
        `p50 ${ms(percentile(toApproval, 0.5))}, p99 ${ms(percentile(toApproval, 0.99))}, APPROVE committed to ` +
        `first step p50 ${ms(percentile(approvalToStep, 0.5))}, p99 ${ms(percentile(approvalToStep, 0.99))}`,
    );
    summary(
      'many-rollbacks',
      `${ROLLBACKS} approved at once: click to first step p50 ${ms(p50)}, p99 ${ms(p99)} ` +
        `(target p99 <${TARGET_P99_MS} ms: ${p99 < TARGET_P99_MS ? 'met' : 'missed'}; click to approval committed ` +
        `p99 ${ms(percentile(toApproval, 0.99))}, approval to first step p99 ${ms(percentile(approvalToStep, 0.99))}); ` +
        `resolved with complete history ${complete}/${ROLLBACKS} (target all: ${complete === ROLLBACKS ? 'met' : 'missed'}); ` +
        `all final ${ms(resolvedMs)} after the first click; Redis store`,
    );
    process.exitCode = complete === ROLLBACKS && refused === 0 ? 0 : 1;
  } finally {
    await h.stop();
    await target.stop();
    plans.remove();
  }
}

await main();
