/**
 * Which of a plan's triggers an alert fires: the first (in plan order) whose `match` labels all
 * equal the alert's. An empty `match` matches every alert of the plan's service. Pure.
 */
import type { TriggerSpec } from '../domain/plan.js';

export function matchTrigger(
  triggers: readonly TriggerSpec[],
  labels: Readonly<Record<string, string>>,
): TriggerSpec | undefined {
  return triggers.find((trigger) =>
    Object.entries(trigger.match).every(
      ([name, value]) => Object.prototype.hasOwnProperty.call(labels, name) && labels[name] === value,
    ),
  );
}
