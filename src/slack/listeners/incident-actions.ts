/**
 * The incident thread's offer (`incident:propose-rollback`): declares the plan's rollback for the
 * incident as the person who clicked, inheriting the incident's start. Approval still follows the
 * authority policy on the card. Acked at once; a click delivered twice declares once; a refusal
 * (another rollback active, no known target version, the incident over) is ephemeral.
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { contextOf } from '../../app/rollback-view.js';
import { decodeIncidentValue, INCIDENT_ACTION_IDS } from '../blocks/kit.js';
import { renderError, renderRefusal } from '../blocks/replies.js';
import { CLICK_MEMORY_MS, clickKey, explainFailure, tellClicker } from '../reply.js';
import type { SlackDependencies } from '../slack-dependencies.js';

export function registerIncidentActions(app: App, deps: SlackDependencies): void {
  app.action<BlockAction<ButtonAction>>(
    INCIDENT_ACTION_IDS.proposeRollback,
    async ({ ack, body, action, client }) => {
      await ack();
      const user = body.user.id;
      const tell = tellClicker(body, client, deps.log);
      try {
        const value = decodeIncidentValue(action.value);
        const incident = value && (await deps.incidents.get(value.incidentId));
        if (!value || !incident) {
          await tell('This button is not valid any more: the incident is unknown.');
          return;
        }
        if (!(await deps.store.rememberOnce(clickKey(body, action), CLICK_MEMORY_MS))) return;
        if (incident.closedAt !== null) {
          const refusal = renderRefusal(`incident \`${incident.id}\` is closed: every alert resolved.`);
          await tell(refusal.text, refusal.blocks);
          return;
        }
        const fired = incident.alerts.find((alert) => alert.fingerprint === incident.trigger?.fingerprint);
        const outcome = await deps.service.declare({
          service: incident.service,
          environment: incident.environment,
          ...(value.strategy === undefined ? {} : { strategy: value.strategy }),
          reason: fired ? `${fired.name}: ${fired.summary}` : `incident ${incident.id}`,
          by: user,
          incidentStartedAt: incident.startedAt,
        });
        if (!outcome.ok) {
          const refusal = renderRefusal(outcome.message);
          await tell(refusal.text, refusal.blocks);
          return;
        }
        // Declared in this incident, its card is on the incident's message (the one clicked in).
        const here = contextOf(outcome.rollback).incidentId === incident.id;
        await tell(
          here
            ? `Declared rollback \`${outcome.rollback.id}\`: its status card is on this incident's message.`
            : `Declared rollback \`${outcome.rollback.id}\`: its status card is in <#${outcome.plan.channel}>.`,
        );
      } catch (error) {
        const { message, reference } = explainFailure(deps.log, error, { action: action.action_id, user });
        const reply = renderError(message, reference);
        await tell(reply.text, reply.blocks);
      }
    },
  );
}
