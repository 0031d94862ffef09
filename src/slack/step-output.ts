/**
 * What a step prints, gathered while it runs and posted in the rollback's thread as one message
 * when the attempt ends (succeeded or not), so the thread shows the output without a message per line.
 * Posted with `replyLater`: tried again in the background while Slack is unavailable.
 */
import type { Logger } from 'pino';
import { restore, type PersistedRollback } from '../domain/rollback-machine.js';
import type { StepOutcome, StepWork } from '../engine/step-runner.js';
import { renderStepOutput } from './blocks/thread-messages.js';
import type { RollbackCards } from './rollback-cards.js';

type PerformStep = (work: StepWork, signal: AbortSignal) => Promise<StepOutcome>;

export class StepOutputRelay {
  private readonly lines = new Map<string, string[]>();

  constructor(private readonly deps: { cards: Pick<RollbackCards, 'replyLater'>; log: Logger }) {}

  /** The performer's `onLine`: one line of an attempt. */
  readonly onLine = (work: StepWork, line: string): void => {
    const key = keyOf(work);
    const lines = this.lines.get(key) ?? [];
    lines.push(line);
    this.lines.set(key, lines);
  };

  /** `performStep` that posts the attempt's output in the thread once it ends. */
  wrap(performStep: PerformStep): PerformStep {
    return async (work, signal) => {
      try {
        return await performStep(work, signal);
      } finally {
        await this.flush(work);
      }
    };
  }

  private async flush(work: StepWork): Promise<void> {
    const lines = this.lines.get(keyOf(work)) ?? [];
    this.lines.delete(keyOf(work));
    const context = restore(work.snapshot as PersistedRollback).context;
    const step = (work.phase === 'after' ? (context.afterSteps ?? []) : context.steps)[work.index];
    if (lines.length === 0 || !step) return;
    // The step's outcome waits for the first try only: Slack being away never holds up a rollback.
    await this.deps.cards.replyLater(work.rollbackId, renderStepOutput(step.name, lines), 'step output');
  }
}

const keyOf = (work: StepWork): string =>
  `${work.rollbackId}:${work.phase ?? 'steps'}:${work.index}:${work.attempt}`;
