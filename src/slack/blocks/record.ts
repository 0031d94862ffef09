/**
 * Replies to `/rollback history [SERVICE]` (the seed's "Rollback History" table: date, version from,
 * version to, reason, duration, resolved by) and `/rollback stats` (the seed's KPIs against their
 * targets). Ephemeral, like every command reply. Pure.
 */
import type { KnownBlock } from '@slack/web-api';
import { formatDuration } from '../../domain/duration.js';
import type { DurationKpi, HistoryRow, RollbackStats } from '../../domain/rollback-record.js';
import { stateEmoji } from './emoji.js';
import { LIMITS, context, header, section } from './kit.js';
import type { EphemeralReply } from './replies.js';
import { escapeMrkdwn, mention, slackDate, truncate } from './text.js';

const esc = escapeMrkdwn;
const reply = (text: string, blocks: KnownBlock[]): EphemeralReply => ({
  response_type: 'ephemeral',
  text: truncate(text, LIMITS.fallbackText),
  blocks: blocks.slice(0, LIMITS.messageBlocks),
});

const REASON_CHARS = 120;
const DRILL = '🧪 *DRILL*';

function historyLine(row: HistoryRow): string {
  return [
    `${stateEmoji(row.outcome === 'expired' ? 'cancelled' : row.outcome)} ${slackDate(row.date)}`,
    `*${esc(row.service)}* (${esc(row.environment)})${row.drill ? ` ${DRILL}` : ''}`,
    `\`${esc(row.fromVersion ?? '?')}\` → \`${esc(row.toVersion)}\``,
    truncate(esc(row.reason), REASON_CHARS),
    formatDuration(row.durationMs),
    `${row.outcome} by ${mention(row.resolvedBy)}`,
    `\`${esc(row.id)}\``,
  ].join(' · ');
}

/** `total`: how many finished rollbacks matched before the rows were bounded. */
export function renderHistory(
  rows: HistoryRow[],
  options: { service?: string; total: number },
): EphemeralReply {
  const scope = options.service === undefined ? '' : ` of ${options.service}`;
  if (rows.length === 0) {
    const text = `No finished rollbacks${scope} yet.`;
    return reply(text, [section(esc(text))]);
  }
  const blocks: KnownBlock[] = [
    header(`🗂️ Rollback history${scope}`),
    context(['Date · Service · Version from → to · Reason · Duration · Resolved by · Id']),
    ...rows.map((row) => section(historyLine(row))),
  ];
  if (options.total > rows.length) {
    blocks.push(
      context([
        `Newest ${rows.length} of ${options.total}; the rest at \`GET /api/rollbacks${options.service === undefined ? '' : `?service=${esc(options.service)}`}\`.`,
      ]),
    );
  }
  return reply(`Rollback history${scope}: ${rows.length} rollbacks`, blocks);
}

const metText = (met: boolean | null): string => (met === null ? '➖' : met ? '✅' : '❌');
const verdict = (met: boolean | null): string => (met === null ? 'no data' : met ? '*met*' : '*not met*');
const dur = (ms: number | null): string => (ms === null ? '—' : formatDuration(ms));

function durationLine(name: string, what: string, kpi: DurationKpi): string {
  const figures =
    kpi.samples === 0
      ? 'no rollbacks to measure'
      : `p50 ${dur(kpi.p50Ms)} · avg ${dur(kpi.avgMs)} · max ${dur(kpi.maxMs)} (${kpi.samples} rollback${kpi.samples === 1 ? '' : 's'})`;
  const target =
    kpi.targetMs === null
      ? 'no target in the runbook'
      : `target under ${formatDuration(kpi.targetMs)}: ${verdict(kpi.met)}${kpi.samples === 0 ? '' : ` (${kpi.withinTarget} of ${kpi.samples} within)`}`;
  return `${metText(kpi.met)} *${name}* _${what}_\n${figures} — ${target}`;
}

const percent = (rate: number): string => `${(Math.round(rate * 1_000) / 10).toString()}%`;

export function renderStats(stats: RollbackStats): EphemeralReply {
  const days = Math.round((stats.to - stats.from) / 86_400_000);
  const rate = stats.successRate;
  const outcomes = Object.entries(stats.outcomes)
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
  const blocks: KnownBlock[] = [
    header(`📊 Rollback KPIs, last ${days} days`),
    section(durationLine('Time to detect', 'incident start → declaration', stats.timeToDetect)),
    section(durationLine('Time to approve', 'declaration → authorised', stats.timeToApprove)),
    section(durationLine('Time to roll back', 'declaration → resolved', stats.timeToRollBack)),
    section(durationLine('Recovery time', 'incident start → resolved', stats.recoveryTime)),
    section(
      `${metText(rate.met)} *Success rate* _resolved / authorised rollbacks that ended_\n${
        rate.rate === null
          ? 'no authorised rollback has ended'
          : `${percent(rate.rate)} (${rate.succeeded} of ${rate.attempted})`
      } — target above ${percent(rate.target)}: ${verdict(rate.met)}`,
    ),
    context([
      `${stats.declared} rollback${stats.declared === 1 ? '' : 's'} declared from ${slackDate(stats.from)} to ${slackDate(stats.to)}${outcomes === '' ? '' : ` (${outcomes})`}; ${stats.drillsExcluded} drill${stats.drillsExcluded === 1 ? '' : 's'} excluded. Rejected, cancelled and expired rollbacks never ran: they are not in the success rate.`,
    ]),
  ];
  const summary = [
    `Rollback KPIs, last ${days} days`,
    `detect p50 ${dur(stats.timeToDetect.p50Ms)}`,
    `roll back p50 ${dur(stats.timeToRollBack.p50Ms)}`,
    `success ${rate.rate === null ? '—' : percent(rate.rate)}`,
  ].join(' · ');
  return reply(summary, blocks);
}
