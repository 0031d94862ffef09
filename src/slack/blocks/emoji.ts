/** The emoji the card and thread use for states and statuses (Unicode: they work in fallbacks too). */
import type { CheckStatus, StateName, StepStatus } from '../../domain/rollback-types.js';

export const STATE_EMOJI: Record<StateName, string> = {
  declared: '🟡',
  pending: '⏳',
  authorized: '🔓',
  executing: '🔄',
  validating: '🔍',
  resolved: '✅',
  rejected: '⛔',
  cancelled: '🚫',
  aborted: '🛑',
  failed: '❌',
};

export const STEP_EMOJI: Record<StepStatus, string> = {
  pending: '⚪',
  running: '🔄',
  succeeded: '✅',
  failed: '❌',
  skipped: '⏭️',
  interrupted: '⚠️',
};

export const CHECK_EMOJI: Record<CheckStatus, string> = {
  pending: '⚪',
  running: '🔄',
  succeeded: '✅',
  failed: '❌',
  inconclusive: '❔',
  skipped: '⏭️',
};

export const stateEmoji = (state: StateName): string => STATE_EMOJI[state];
