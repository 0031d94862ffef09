/**
 * The card's buttons. Ack at once; a click delivered twice (a Slack retry, or the same click seen by
 * two replicas) is acted on once; the clicker's roles are checked on the server, and a refusal is an
 * ephemeral message to the clicker that never replaces the card.
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { HumanEvent } from '../../app/rollback-service.js';
import { ACTION_IDS, decodeButtonValue, type ButtonValue } from '../blocks/kit.js';
import { renderError, renderRefusal } from '../blocks/replies.js';
import { CLICK_MEMORY_MS, clickKey, explainFailure, tellClicker } from '../reply.js';
import type { SlackDependencies } from '../slack-dependencies.js';

function eventFor(actionId: string, value: ButtonValue): HumanEvent | null {
  switch (actionId) {
    case ACTION_IDS.approve:
      return value.digest === undefined ? { type: 'APPROVE' } : { type: 'APPROVE', digest: value.digest };
    case ACTION_IDS.reject:
      return { type: 'REJECT' };
    case ACTION_IDS.cancel:
      return { type: 'CANCEL' };
    case ACTION_IDS.startNow:
      return { type: 'START_NOW' };
    case ACTION_IDS.abort:
      return { type: 'ABORT' };
    case ACTION_IDS.accept:
      return { type: 'ACCEPT' };
    case ACTION_IDS.continue:
      return { type: 'CONTINUE' };
    case ACTION_IDS.retryStep:
      return value.step === undefined ? { type: 'RETRY_STEP' } : { type: 'RETRY_STEP', step: value.step };
    case ACTION_IDS.skipStep:
      return value.step === undefined ? null : { type: 'SKIP_STEP', step: value.step };
    case ACTION_IDS.checkDone:
      return value.check === undefined ? null : { type: 'MANUAL_DONE', check: value.check };
    default:
      return null;
  }
}

export function registerRollbackActions(app: App, deps: SlackDependencies): void {
  app.action<BlockAction<ButtonAction>>(/^rollback:/, async ({ ack, body, action, client }) => {
    await ack();
    const user = body.user.id;
    const tell = tellClicker(body, client, deps.log);
    try {
      const value = decodeButtonValue(action.value);
      const event = value && eventFor(action.action_id, value);
      if (!value || !event) {
        await tell('This button is not valid any more; use `/rollback status` for the current card.');
        return;
      }
      if (!(await deps.store.rememberOnce(clickKey(body, action), CLICK_MEMORY_MS))) return;
      const outcome = await deps.service.act(value.rollbackId, user, event);
      // Done: the card follows the commit (its one writer redraws it). Refused: the clicker hears why.
      if (outcome.ok) return;
      const refusal = renderRefusal(outcome.message);
      await tell(refusal.text, refusal.blocks);
    } catch (error) {
      const { message, reference } = explainFailure(deps.log, error, { action: action.action_id, user });
      const reply = renderError(message, reference);
      await tell(reply.text, reply.blocks);
    }
  });
}
