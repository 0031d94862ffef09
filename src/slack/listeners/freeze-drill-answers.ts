/**
 * `/rollback freeze ...` and `/rollback drill ...`, answered for the person who typed them. Kept apart
 * from the command listener so each subcommand family stays a small module.
 */
import type { RollbackCommand } from '../command-grammar.js';
import { renderFreezeList, renderFrozen, renderThawed } from '../blocks/freeze-replies.js';
import { renderRefusal, type EphemeralReply } from '../blocks/replies.js';
import type { SlackDependencies } from '../slack-dependencies.js';

type FreezeCommand = Extract<RollbackCommand, { kind: 'freeze' }>;
type DrillCommand = Extract<RollbackCommand, { kind: 'drill' }>;
type Reply = EphemeralReply | { response_type: 'ephemeral'; text: string };

export async function answerFreeze(
  command: FreezeCommand,
  deps: Pick<SlackDependencies, 'freezes'>,
  user: string,
): Promise<Reply> {
  switch (command.action) {
    case 'list':
      return renderFreezeList(await deps.freezes.list());
    case 'on': {
      const outcome = await deps.freezes.freeze({
        service: command.service,
        environment: command.environment,
        reason: command.reason,
        by: user,
      });
      return outcome.ok ? renderFrozen(outcome.freeze) : renderRefusal(outcome.message);
    }
    case 'off': {
      const outcome = await deps.freezes.lift({
        service: command.service,
        environment: command.environment,
        by: user,
      });
      if (!outcome.ok) return renderRefusal(outcome.message);
      const after = await deps.freezes.status(outcome.freeze.service, outcome.freeze.environment);
      return renderThawed(outcome.freeze, after.frozen ? after.reason : undefined);
    }
  }
}

export async function answerDrill(
  command: DrillCommand,
  deps: Pick<SlackDependencies, 'service'>,
  from: { user: string; channel: string },
): Promise<Reply> {
  const outcome = await deps.service.declare({
    service: command.service,
    strategy: command.strategy,
    toVersion: command.toVersion,
    reason: 'drill',
    drill: true,
    by: from.user,
  });
  if (!outcome.ok) return renderRefusal(outcome.message);
  const { rollback, plan } = outcome;
  const where = plan.channel === from.channel ? 'here' : `in <#${plan.channel}>`;
  return {
    response_type: 'ephemeral',
    text: `🧪 Declared drill \`${rollback.id}\` of ${plan.service} against ${rollback.environment}: its status card is ${where}. It runs like a real rollback (approval, steps, checks) and is left out of the stats.`,
  };
}
