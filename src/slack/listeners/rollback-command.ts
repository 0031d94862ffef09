/** `/rollback ...`: ack at once, then parse and answer (ephemeral unless the card itself is posted). */
import type { App } from '@slack/bolt';
import type { SlackDependencies } from '../slack-dependencies.js';
import { parseRollbackCommand, suggestSubcommand, type RollbackCommand } from '../command-grammar.js';
import { renderDeclareModal } from '../blocks/declare-modal.js';
import type { KnownBlock } from '@slack/types';
import {
  renderError,
  renderHelp,
  renderPlanPreview,
  renderRefusal,
  renderRollbackList,
} from '../blocks/replies.js';
import { renderHistory, renderStats } from '../blocks/record.js';
import { explainFailure } from '../reply.js';
import { readRecords } from '../../app/rollback-records.js';
import { contextOf } from '../../app/rollback-view.js';
import { HISTORY_LIMIT, historyRows, rollbackStats } from '../../domain/rollback-record.js';
import { lastTestedText } from '../../app/drill-records.js';
import { answerDrill, answerFreeze } from './freeze-drill-answers.js';

/** What the command answers the person who typed it (only they see it). */
type Reply = { response_type: 'ephemeral'; text: string; blocks?: KnownBlock[] };

export function registerRollbackCommand(app: App, deps: SlackDependencies): void {
  app.command('/rollback', async ({ command, ack, respond, client }) => {
    await ack();
    const reply = (message: Reply): Promise<unknown> => respond(message);
    try {
      const parsed = parseRollbackCommand(command.text);
      if (!parsed.ok) {
        await reply(renderRefusal(parsed.message));
        return;
      }
      const answer = await answerCommand(parsed.command, deps, {
        user: command.user_id,
        channel: command.channel_id,
        openModal: async (view) => {
          await client.views.open({ trigger_id: command.trigger_id, view });
        },
      });
      if (answer) await reply(answer);
    } catch (error) {
      const { message, reference } = explainFailure(deps.log, error, {
        command: command.text,
        user: command.user_id,
      });
      await reply(renderError(message, reference));
    }
  });
}

async function answerCommand(
  command: RollbackCommand,
  deps: SlackDependencies,
  from: {
    user: string;
    channel: string;
    openModal: (view: ReturnType<typeof renderDeclareModal>) => Promise<void>;
  },
): Promise<Reply | null> {
  const { service } = deps;
  switch (command.kind) {
    case 'modal':
      await from.openModal(renderDeclareModal(service.plans()));
      return null;
    case 'help':
      return renderHelp();
    case 'list':
      return renderRollbackList(await deps.reads.list({ activeOnly: true }));
    case 'status': {
      if (command.id === undefined) return renderRollbackList(await deps.reads.list({ activeOnly: true }));
      const card = await deps.drawCard(command.id);
      return card
        ? { response_type: 'ephemeral', ...card.message }
        : renderRefusal(`there is no rollback ${command.id}.`);
    }
    case 'plan': {
      const found = service.findPlan(command.service);
      if (!found.ok) return renderRefusal(found.message);
      const strategy = found.plan.strategies[found.plan.defaultStrategy]!;
      const lastDrill = await deps.drills.last(found.plan.service, strategy.name);
      return renderPlanPreview(
        found.plan,
        strategy.name,
        deps.previewSteps(found.plan, strategy.name),
        lastTestedText(lastDrill),
      );
    }
    case 'cancel': {
      const outcome = await service.act(command.id, from.user, { type: 'CANCEL' });
      if (!outcome.ok) return renderRefusal(outcome.message);
      return { response_type: 'ephemeral', text: `Rollback ${command.id} is now ${outcome.rollback.state}.` };
    }
    case 'declare': {
      const found = service.findPlan(command.service);
      const meant = found.ok ? undefined : suggestSubcommand(command.service);
      if (meant)
        return renderRefusal(
          `there is no service "${command.service}": did you mean \`/rollback ${meant}\`?`,
        );
      const outcome = await service.declare({
        service: command.service,
        environment: command.environment,
        toVersion: command.toVersion,
        strategy: command.strategy,
        reason: command.reason,
        by: from.user,
      });
      if (!outcome.ok) return renderRefusal(outcome.message);
      const where = outcome.plan.channel === from.channel ? 'here' : `in <#${outcome.plan.channel}>`;
      // Declared in an open incident, its card is on the incident's message.
      const incidentId = contextOf(outcome.rollback).incidentId;
      const on = incidentId === undefined ? '' : ` on incident \`${incidentId}\`'s message`;
      return {
        response_type: 'ephemeral',
        text: `Declared rollback \`${outcome.rollback.id}\`: its status card is${on} ${where}.`,
      };
    }
    case 'history': {
      const filter = command.service === undefined ? {} : { service: command.service };
      const all = historyRows(await readRecords(deps.store, filter), { ...filter, limit: Infinity });
      return renderHistory(all.slice(0, HISTORY_LIMIT), { ...filter, total: all.length });
    }
    case 'stats':
      return renderStats(rollbackStats(await readRecords(deps.store), { now: deps.now() }));
    case 'freeze':
      return answerFreeze(command, deps, from.user);
    case 'drill':
      return answerDrill(command, deps, from);
  }
}
