/**
 * Events the rollback machine takes. Every event carries `at` (epoch ms: time only enters the
 * domain on events) and `by` (a Slack user id, `policy` or `system`). Events that a person sends
 * also carry the roles the adapter resolved for them at click time.
 * The schema is checked before an event reaches the machine, so a malformed event is refused and
 * reported instead of throwing inside a guard.
 */
import { z } from 'zod';
import { TIMER_NAMES } from './rollback-types.js';
import { planResolutionSchema, stepTargetSchema } from './step-target.js';

const base = { at: z.number(), by: z.string().min(1) };
const person = { ...base, roles: z.array(z.string()) };
const index = z.number().int().nonnegative();
const attempt = z.number().int().positive();

export const rollbackEventSchema = z.discriminatedUnion('type', [
  // `digest`: the resolution the approver saw on the card; refused once the targets have changed.
  z.object({ type: z.literal('APPROVE'), ...person, digest: z.string().optional() }),
  z.object({ type: z.literal('REJECT'), ...person, reason: z.string().optional() }),
  z.object({ type: z.literal('CANCEL'), ...person, reason: z.string().optional() }),
  z.object({ type: z.literal('START_NOW'), ...person }),
  // `target`: what the step resolved before it first changes anything; every later attempt reaches it.
  z.object({
    type: z.literal('STEP_STARTED'),
    ...base,
    step: index,
    attempt,
    target: stepTargetSchema.optional(),
  }),
  z.object({ type: z.literal('TARGETS_RESOLVED'), ...base, resolution: planResolutionSchema }),
  z.object({
    type: z.literal('STEP_SUCCEEDED'),
    ...base,
    step: index,
    attempt: attempt.optional(),
    output: z.record(z.string(), z.unknown()).optional(),
  }),
  z.object({
    type: z.literal('STEP_FAILED'),
    ...base,
    step: index,
    attempt: attempt.optional(),
    error: z.string(),
    /** The object changed under the step: a human decides, whatever `onFailure` says. */
    conflict: z.boolean().optional(),
  }),
  z.object({ type: z.literal('STEP_INTERRUPTED'), ...base, step: index, attempt: attempt.optional() }),
  z.object({ type: z.literal('RETRY_STEP'), ...person, step: index.optional() }),
  z.object({ type: z.literal('SKIP_STEP'), ...person, step: index }),
  z.object({ type: z.literal('ABORT'), ...person, reason: z.string().optional() }),
  z.object({
    type: z.literal('CHECK_PASSED'),
    ...base,
    check: index,
    attempt: attempt.optional(),
    detail: z.string().optional(),
  }),
  z.object({
    type: z.literal('CHECK_FAILED'),
    ...base,
    check: index,
    attempt: attempt.optional(),
    detail: z.string(),
  }),
  z.object({
    type: z.literal('CHECK_INCONCLUSIVE'),
    ...base,
    check: index,
    attempt: attempt.optional(),
    detail: z.string(),
  }),
  z.object({ type: z.literal('MANUAL_DONE'), ...person, check: index }),
  z.object({ type: z.literal('ACCEPT'), ...person }),
  // Go on after a watched metric breached (the next step was held, or would have been).
  z.object({ type: z.literal('CONTINUE'), ...person }),
  z.object({
    type: z.literal('WATCH_SAMPLED'),
    ...base,
    watch: index,
    attempt,
    status: z.enum(['ok', 'breached', 'inconclusive']),
    detail: z.string().optional(),
  }),
  // The alerts of the rollback's service and environment firing now (all of them, after a change).
  z.object({
    type: z.literal('ALERTS_FIRING'),
    ...base,
    alerts: z.array(
      z.object({ fingerprint: z.string().min(1), name: z.string().min(1), summary: z.string().optional() }),
    ),
  }),
  z.object({ type: z.literal('TIMER'), ...base, timer: z.enum(TIMER_NAMES), seq: z.number().int() }),
  // Steps after resolution (`strategy.after`): their own types, so a late report of one can never be
  // taken for a step of the rollback itself, and the other way round. `step` indexes `strategy.after`.
  z.object({ type: z.literal('AFTER_STEP_STARTED'), ...base, step: index, attempt }),
  z.object({
    type: z.literal('AFTER_STEP_SUCCEEDED'),
    ...base,
    step: index,
    attempt: attempt.optional(),
    output: z.record(z.string(), z.unknown()).optional(),
  }),
  z.object({
    type: z.literal('AFTER_STEP_FAILED'),
    ...base,
    step: index,
    attempt: attempt.optional(),
    error: z.string(),
  }),
  z.object({ type: z.literal('AFTER_STEP_INTERRUPTED'), ...base, step: index, attempt: attempt.optional() }),
  // A new rollback (`rollbackId`) of the same service and environment was declared: the steps after
  // this one's resolution no longer fit what runs, so they are called off.
  z.object({ type: z.literal('SUPERSEDED'), ...base, rollbackId: z.string().min(1) }),
]);

export type RollbackEvent = z.infer<typeof rollbackEventSchema>;
export type RollbackEventType = RollbackEvent['type'];
export type EventOf<T extends RollbackEventType> = Extract<RollbackEvent, { type: T }>;

export const EVENT_TYPES = rollbackEventSchema.options.map((o) => o.shape.type.value);

export type EventParse = { ok: true; event: RollbackEvent } | { ok: false; reason: string };

/** Checks an event's shape; the reason names the first problem in plain words. */
export function parseRollbackEvent(raw: unknown): EventParse {
  const result = rollbackEventSchema.safeParse(raw);
  if (result.success) return { ok: true, event: result.data };
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
  return { ok: false, reason: `malformed event${where}: ${issue?.message ?? 'invalid'}` };
}
