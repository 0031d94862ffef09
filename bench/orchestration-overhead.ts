/**
 * Orchestration overhead: what the bot adds on top of its steps' own time. A plan of 20 `http` steps
 * (no validation checks, no stabilisation window) against a local server that answers each request
 * after 50 ms; the whole bot (the test harness: real Bolt, real Redis, the Slack simulator) declares
 * it by `/rollback` and approves it by a click on the card's Approve button. Per rollback: the time
 * from the click being sent to the commit of the resolution (engine.onCommitted), against the sum of
 * the steps' own time, each step's request from its arrival at the server to its answer being sent.
 * Target (issue #19): that ratio at most 1.05. Where the rest goes is printed beside it: click to the
 * first step's request, the gaps between one step's answer and the next step's request, the last
 * answer to the resolution.
 *
 *   npx tsx bench/orchestration-overhead.ts   (REDIS_URL, default redis://127.0.0.1:6379)
 *   ORCH_BENCH_STEPS=20 ORCH_BENCH_ROUNDS=5 ORCH_BENCH_DELAY_MS=50
 *
 * The harness runs on Redis only (it has no memory-store mode), so this bench does too. One
 * warm-up rollback first, not counted; then ROUNDS rollbacks one after another.
 */
import { performance } from 'node:perf_hooks';
import {
  CHANNEL,
  declareBySlash,
  forRollback,
  PEOPLE,
  startBotHarness,
} from '../test/support/bot-harness.js';
import { ascending, ms, percentile, REDIS_URL, sized, summary } from './kit.js';
import { httpPlanFile, startStepTarget, type StepRequest } from './step-target.js';

const STEPS = sized('ORCH_BENCH_STEPS', 20, 4);
const ROUNDS = sized('ORCH_BENCH_ROUNDS', 5, 1);
const DELAY_MS = sized('ORCH_BENCH_DELAY_MS', 50, 50);
const SERVICE = 'orch';
const TARGET = 1.05;

interface Round {
  total: number;
  steps: number;
  toFirst: number;
  gaps: number;
  afterLast: number;
}

async function main(): Promise<void> {
  console.log(
    `Orchestration overhead: ${STEPS} http steps answering after ${DELAY_MS} ms, ${ROUNDS} rollback(s) after a warm-up; ` +
      `the bot in this process on Redis (${REDIS_URL})`,
  );
  const target = await startStepTarget(() => DELAY_MS);
  const plans = httpPlanFile(target.url, [{ service: SERVICE, steps: STEPS }], CHANNEL);
  const h = await startBotHarness({ planFile: plans.path, redisUrl: REDIS_URL });
  const resolvedAt = new Map<string, number>();
  h.bot.runtime.engine.onCommitted(({ rollback }) => {
    if (rollback.final) resolvedAt.set(rollback.id, performance.now());
  });
  let wrong = 0;
  try {
    const rounds: Round[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const id = await declareBySlash(
        h,
        `${SERVICE} --env production --to v1 --reason "bench round ${round}"`,
      );
      const firstRequest = target.requests.length;
      const clicking = h.driver.click({
        user: PEOPLE.oncall,
        actionId: 'rollback:approve',
        value: forRollback(id),
      });
      // The click's request is handed to fetch within driver.click's synchronous part.
      const sentAt = performance.now();
      const click = await clicking;
      if (click.status !== 200) throw new Error(`the approval click was answered ${click.status}`);
      const deadline = Date.now() + 60_000;
      while (!resolvedAt.has(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const ended = resolvedAt.get(id);
      const state = (await h.store.getRollback(id))?.state;
      const requests: StepRequest[] = target.requests.slice(firstRequest);
      if (ended === undefined || state !== 'resolved' || requests.length !== STEPS) {
        console.log(
          `round ${round}: ${id} ended ${state ?? 'nowhere'} after ${requests.length} step requests`,
        );
        wrong++;
        continue;
      }
      const answered = requests.map((r) => r.answeredAt ?? Number.NaN);
      const figures: Round = {
        total: ended - sentAt,
        steps: requests.reduce((sum, r, i) => sum + answered[i]! - r.arrivedAt, 0),
        toFirst: requests[0]!.arrivedAt - sentAt,
        gaps: requests.slice(1).reduce((sum, r, i) => sum + r.arrivedAt - answered[i]!, 0),
        afterLast: ended - answered.at(-1)!,
      };
      console.log(
        `${round === 0 ? 'warm-up' : `round ${round}`}: click to resolved ${ms(figures.total)}, steps ${ms(figures.steps)}, ` +
          `ratio ${(figures.total / figures.steps).toFixed(3)}; click to first step ${ms(figures.toFirst)}, ` +
          `between steps ${ms(figures.gaps)} (${ms(figures.gaps / Math.max(1, STEPS - 1))} each), last answer to resolved ${ms(figures.afterLast)}`,
      );
      if (round > 0) rounds.push(figures);
    }
    if (rounds.length === 0) throw new Error('no rollback resolved');
    const ratios = ascending(rounds.map((r) => r.total / r.steps));
    const median = (pick: (r: Round) => number): number => percentile(ascending(rounds.map(pick)), 0.5);
    const ratio = percentile(ratios, 0.5);
    summary(
      'orchestration-overhead',
      `click-to-resolved / sum of step time, median of ${rounds.length}: ${ratio.toFixed(3)} ` +
        `(worst ${ratios.at(-1)!.toFixed(3)}; target <=${TARGET}: ${ratio <= TARGET ? 'met' : 'missed'}); ` +
        `${STEPS} steps of ${DELAY_MS} ms, overhead ${ms(median((r) => r.total - r.steps))} = ` +
        `click to first step ${ms(median((r) => r.toFirst))} + between steps ${ms(median((r) => r.gaps))} + ` +
        `last answer to resolved ${ms(median((r) => r.afterLast))}; Redis store only (the harness has no memory mode); ` +
        `rollbacks not resolved ${wrong}`,
    );
    process.exitCode = wrong > 0 ? 1 : 0;
  } finally {
    await h.stop();
    await target.stop();
    plans.remove();
  }
}

await main();
