/**
 * Ephemeral replies to `/rollback` and to refused clicks (DESIGN section 9): only the person who
 * typed or clicked sees them, and they never replace the card. Errors show a reference id for the
 * logs, never a stack trace.
 */
import type { KnownBlock } from '@slack/web-api';
import type { RollbackView } from '../../app/rollback-view.js';
import type { RollbackPlan } from '../../domain/plan.js';
import { formatDuration } from '../../domain/duration.js';
import { stateEmoji } from './emoji.js';
import { ownershipText } from './ownership.js';
import { LIMITS, context, divider, header, section } from './kit.js';
import { escapeMrkdwn, slackDateIso, truncate } from './text.js';

export interface EphemeralReply {
  response_type: 'ephemeral';
  text: string;
  blocks: KnownBlock[];
}

const esc = escapeMrkdwn;
const reply = (text: string, blocks: KnownBlock[]): EphemeralReply => ({
  response_type: 'ephemeral',
  text: truncate(text, LIMITS.fallbackText),
  blocks: blocks.slice(0, LIMITS.messageBlocks),
});

const HELP_COMMANDS: Array<[string, string]> = [
  ['/rollback', 'Open the declaration form.'],
  [
    '/rollback <service> [--env E] [--to VERSION] [--strategy S] [--reason TEXT]',
    'Declare a rollback (environment defaults to production, version to the previous deploy).',
  ],
  ['/rollback list', 'Rollbacks that are still open.'],
  ['/rollback status [ID]', 'Where a rollback stands (the latest one without an id).'],
  ['/rollback history [SERVICE]', 'Finished rollbacks.'],
  ['/rollback plan SERVICE', "The service's rollback plan: strategies, steps, limitations."],
  ['/rollback cancel ID', 'End a rollback that is not finished (needs a role in the policy).'],
  ['/rollback freeze', 'Current deployment freezes.'],
  [
    '/rollback freeze on|off SERVICE [--env E] [--reason TEXT]',
    'Freeze deploys of a service by hand, or lift it (needs a role in the policy).',
  ],
  ['/rollback stats', 'Time to detect, time to roll back, success rate.'],
  ['/rollback drill SERVICE [--strategy S]', 'Rehearse the plan in staging (labelled as a drill).'],
  ['/rollback help', 'This message.'],
];

const HELP_EXAMPLES = [
  '/rollback user-service --env production --to v1.4.1 --reason "5xx spike after deploy"',
  '/rollback payment-service --strategy canary --reason "p95 latency over 2s"',
  '/rollback status rb_01JDX4Q2',
  '/rollback drill user-service',
];

export function renderHelp(): EphemeralReply {
  const commands = HELP_COMMANDS.map(([cmd, what]) => `\`${esc(cmd)}\`\n${what}`).join('\n');
  const examples = HELP_EXAMPLES.map((e) => `\`${esc(e)}\``).join('\n');
  return reply('How to use /rollback', [
    header('🔁 /rollback'),
    section(commands),
    section(`*Examples*\n${examples}`),
    context([
      'Buttons on the status card: *Approve* / *Reject* while approval is pending; *Retry* / *Skip* / *Abort* when a step fails.',
    ]),
  ]);
}

export function renderRollbackList(views: RollbackView[]): EphemeralReply {
  if (views.length === 0) return reply('No open rollbacks.', [section('No open rollbacks. 🎉')]);
  const MAX = 40;
  const lines = views
    .slice(0, MAX)
    .map(
      (v) =>
        `${stateEmoji(v.state)} \`${esc(v.id)}\` *${esc(v.service)}* (${esc(v.environment)})${v.drill ? ' 🧪 drill' : ''} → \`${esc(v.toVersion)}\` · ${esc(v.stateDetail)} · ${slackDateIso(v.declaredAt)}`,
    );
  const blocks: KnownBlock[] = [header(`Rollbacks (${views.length})`), ...lines.map((line) => section(line))];
  if (views.length > MAX)
    blocks.push(context([`… and ${views.length - MAX} more: use \`/rollback history\`.`]));
  return reply(`${views.length} rollbacks`, blocks);
}

export function renderRefusal(reason: string, referenceId?: string): EphemeralReply {
  const text = `🙅 ${esc(reason)}`;
  return reply(text, [
    section(text),
    ...(referenceId === undefined ? [] : [context([`Reference: \`${esc(referenceId)}\``])]),
  ]);
}

/** A failure on our side: the user's message and a reference for the logs. Never a stack trace. */
export function renderError(userMessage: string, referenceId: string): EphemeralReply {
  const text = `⚠️ ${esc(userMessage)}`;
  return reply(text, [
    section(text),
    context([
      `Something went wrong on our side. Reference: \`${esc(referenceId)}\` (give it to the bot's owners).`,
    ]),
  ]);
}

export interface PreviewStep {
  name: string;
  uses: string;
  /** Parameters after rendering, secrets already masked by the caller. */
  params: Record<string, unknown>;
}

/** `lastTested`: the strategy's last drill in words (`last tested: ...` or `never drilled`). */
export function renderPlanPreview(
  plan: RollbackPlan,
  strategyName: string,
  steps: PreviewStep[],
  lastTested?: string,
): EphemeralReply {
  const strategy = plan.strategies[strategyName];
  const blocks: KnownBlock[] = [
    header(`📋 ${plan.service}: ${strategyName}`),
    section(
      [
        `*Plan* \`${esc(plan.name)}\` · criticality *${plan.criticality}* · channel ${esc(plan.channel)}${plan.rtoMs === undefined ? '' : ` · RTO *${formatDuration(plan.rtoMs)}*`}`,
        `*Environments* ${plan.environments.map(esc).join(', ')}`,
        `*Strategies* ${Object.keys(plan.strategies)
          .map((s) => (s === plan.defaultStrategy ? `\`${esc(s)}\` (default)` : `\`${esc(s)}\``))
          .join(', ')}`,
        ...(strategy === undefined ? [`⚠️ No strategy named \`${esc(strategyName)}\` in this plan.`] : []),
      ].join('\n'),
    ),
    ...(lastTested === undefined ? [] : [context([`🧪 \`${esc(strategyName)}\` ${esc(lastTested)}`])]),
  ];
  // Ephemeral: a group mention here pages nobody, and it links to the group.
  const ownership = ownershipText(plan, { groupMentions: true });
  if (ownership !== null) blocks.push(section(ownership));
  if (plan.limitations.length > 0) {
    blocks.push(section(`⚠️ *Limitations*\n${plan.limitations.map((l) => `• ${esc(l)}`).join('\n')}`));
  }
  blocks.push(divider());
  const MAX_STEPS = 40;
  steps.slice(0, MAX_STEPS).forEach((step, i) => {
    const params = truncate(esc(JSON.stringify(step.params, null, 1)), 1_500).replace(/```/g, '`\u200b``');
    blocks.push(section(`*${i + 1}. ${esc(step.name)}* · \`${esc(step.uses)}\`\n\`\`\`${params}\`\`\``));
  });
  if (steps.length > MAX_STEPS) blocks.push(context([`… and ${steps.length - MAX_STEPS} more steps`]));
  if (strategy !== undefined && strategy.validate.length > 0) {
    blocks.push(
      context([
        `*Validation:* ${strategy.validate.map((c) => `${esc(c.name)} (\`${esc(c.uses)}\`)`).join(', ')}`,
      ]),
    );
  }
  const after = strategy?.after ?? [];
  if (after.length > 0) {
    blocks.push(
      context([
        `*After resolution:* ${after.map((s) => `${esc(s.name)} (\`${esc(s.uses)}\`, ${formatDuration(s.delayMs)} after)`).join(', ')}`,
      ]),
    );
  }
  return reply(`Plan of ${esc(plan.service)}, strategy ${esc(strategyName)}`, blocks);
}
