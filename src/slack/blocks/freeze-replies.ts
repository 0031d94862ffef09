/** Ephemeral answers to `/rollback freeze ...` and `/rollback drill ...`. Pure renderers. */
import type { KnownBlock } from '@slack/web-api';
import { ALL, type FreezeEntry, type ManualFreeze } from '../../app/freeze-service.js';
import { LIMITS, context, header, section } from './kit.js';
import type { EphemeralReply } from './replies.js';
import { escapeMrkdwn as esc, mention, slackDate, truncate } from './text.js';

const reply = (text: string, blocks: KnownBlock[]): EphemeralReply => ({
  response_type: 'ephemeral',
  text: truncate(text, LIMITS.fallbackText),
  blocks: blocks.slice(0, LIMITS.messageBlocks),
});

const serviceText = (service: string): string => (service === ALL ? 'every service' : esc(service));
const environmentText = (environment: string): string =>
  environment === ALL ? 'every environment' : esc(environment);
/** How to lift it again: `/rollback freeze off checkout --env production`, or `off` alone for all. */
const liftCommand = (freeze: ManualFreeze): string =>
  `/rollback freeze off${freeze.service === ALL ? '' : ` ${esc(freeze.service)}`}${freeze.environment === ALL ? '' : ` --env ${esc(freeze.environment)}`}`;

/** One freeze as a line: `🧊 *checkout* (production) · frozen by @ann since ...: release train`. */
export function freezeLine(entry: FreezeEntry): string {
  const where = `*${serviceText(entry.service)}* (${environmentText(entry.environment)})`;
  return entry.kind === 'manual'
    ? `🧊 ${where} · frozen by ${mention(entry.by)} since ${slackDate(entry.since)}: ${esc(entry.reason)}`
    : `🔁 ${where} · while rollback \`${esc(entry.rollbackId ?? '?')}\` runs (${esc(entry.reason)})`;
}

export function renderFreezeList(entries: readonly FreezeEntry[]): EphemeralReply {
  if (entries.length === 0)
    return reply('No deployment freezes.', [
      section('No deployment freezes: CI may deploy. Freeze one with `/rollback freeze on SERVICE`.'),
    ]);
  const MAX = 40;
  const blocks: KnownBlock[] = [
    header(`Deployment freezes (${entries.length})`),
    ...entries.slice(0, MAX).map((entry) => section(freezeLine(entry))),
  ];
  if (entries.length > MAX) blocks.push(context([`… and ${entries.length - MAX} more`]));
  return reply(`${entries.length} deployment freezes`, blocks);
}

export function renderFrozen(freeze: ManualFreeze): EphemeralReply {
  const text = `🧊 Deploys of ${serviceText(freeze.service)} to ${environmentText(freeze.environment)} are frozen: ${esc(freeze.reason)}`;
  return reply(text, [
    section(text),
    context([`\`GET /api/freeze\` now answers frozen for CI. Lift it with \`${liftCommand(freeze)}\`.`]),
  ]);
}

/** `stillFrozen`: why deploys stay frozen anyway (an active rollback), if they do. */
export function renderThawed(freeze: ManualFreeze, stillFrozen?: string): EphemeralReply {
  const text = `✅ Lifted the freeze of ${serviceText(freeze.service)} in ${environmentText(freeze.environment)} (set by ${mention(freeze.by)}: ${esc(freeze.reason)}).`;
  return reply(text, [
    section(text),
    context([
      stillFrozen === undefined
        ? 'CI may deploy again.'
        : `Deploys stay frozen until the rollback ends: ${esc(stillFrozen)}.`,
    ]),
  ]);
}
