/**
 * `/rollback history`, `/rollback stats` and the post-mortem draft as Slack shows them: goldens,
 * Slack's limits, escaping, and every timeline event with its time to the second and its actor.
 */
import { describe, expect, it } from 'vitest';
import { postMortemTimeline } from '../../../src/domain/post-mortem-timeline.js';
import { historyRows, rollbackStats, type RecordedRollback } from '../../../src/domain/rollback-record.js';
import { verifyAuditChain } from '../../../src/lib/audit-chain.js';
import { renderPostMortem } from '../../../src/slack/blocks/post-mortem.js';
import { renderHistory, renderStats } from '../../../src/slack/blocks/record.js';
import { utcText } from '../../../src/slack/blocks/text.js';
import { checkBlockLimits } from '../../support/block-limits.js';
import { MINUTE, ROLES, SECOND, T0, USERS, at, rollbackInput } from '../../support/domain-fixtures.js';
import { expectGolden } from '../../support/golden.js';
import {
  RecordingDriver,
  auditVerdictOf,
  quickResolved,
  resolvedJourney,
  viewOf,
} from '../../support/record-fixtures.js';
import { ev } from '../../support/rollback-driver.js';

const DAY = 24 * 60 * MINUTE;
const NOW = T0 + 3 * DAY;

function abortedRun(): RecordingDriver {
  const run = new RecordingDriver(
    rollbackInput({
      id: 'rb-abort',
      at: at(DAY + MINUTE),
      incidentStartedAt: at(DAY),
      reason: 'p99 <!channel> & co',
    }),
  );
  run.send(ev.approve(at(DAY + 2 * MINUTE)));
  run.send(ev.started(at(DAY + 3 * MINUTE), 0));
  run.send(ev.failed(at(DAY + 4 * MINUTE), 0, 'HTTP 502 <b>bad gateway</b>'));
  run.send(ev.abort(at(DAY + 5 * MINUTE), USERS.lead, ROLES.lead));
  return run;
}

const records = (): RecordedRollback[] => [
  quickResolved('rb-one', { start: T0, declareAfter: 2 * MINUTE, approveAfter: MINUTE, takes: 11 * MINUTE }),
  abortedRun().record(),
  quickResolved('rb-drill', {
    start: T0 + 2 * DAY,
    declareAfter: 0,
    approveAfter: MINUTE,
    takes: 4 * MINUTE,
    drill: true,
    service: 'payments',
  }),
];

describe('/rollback history', () => {
  it('draws the seed table, newest first, drills labelled, input escaped', () => {
    const rows = historyRows(records());
    const reply = renderHistory(rows, { total: rows.length });
    expect(checkBlockLimits(reply.blocks)).toEqual([]);
    const text = JSON.stringify(reply.blocks);
    expect(text.indexOf('rb-drill')).toBeLessThan(text.indexOf('rb-abort'));
    expect(text).toContain('🧪 *DRILL*');
    expect(text).not.toContain('<!channel>');
    expectGolden('history', reply);
  });

  it('bounds the table and says where the rest is', () => {
    const rows = historyRows(records());
    const reply = renderHistory(rows.slice(0, 1), { service: 'checkout', total: 3 });
    expect(JSON.stringify(reply.blocks)).toContain('Newest 1 of 3');
    expect(JSON.stringify(reply.blocks)).toContain('/api/rollbacks?service=checkout');
  });

  it('answers plainly when there is nothing yet', () => {
    expect(renderHistory([], { service: 'checkout', total: 0 }).text).toBe(
      'No finished rollbacks of checkout yet.',
    );
  });
});

describe('/rollback stats', () => {
  it('shows each KPI with its target and whether it is met', () => {
    const reply = renderStats(rollbackStats(records(), { now: NOW }));
    expect(checkBlockLimits(reply.blocks)).toEqual([]);
    const text = JSON.stringify(reply.blocks);
    for (const part of [
      'Time to detect',
      'target under 5m: *met*',
      'Time to roll back',
      'target under 15m: *met*',
      'Success rate',
      '50% (1 of 2)',
      'target above 99%: *not met*',
      '1 drill excluded',
    ]) {
      expect(text).toContain(part);
    }
    expectGolden('stats', reply);
  });

  it('says "no data" for an empty period', () => {
    const text = JSON.stringify(renderStats(rollbackStats([], { now: NOW })).blocks);
    expect(text).toContain('no rollbacks to measure');
    expect(text).toContain('no authorised rollback has ended');
  });
});

describe('post-mortem draft', () => {
  it('fills the seed template with every timeline event, its time to the second and its actor', () => {
    const run = resolvedJourney();
    const view = viewOf(run, NOW);
    const timeline = postMortemTimeline(run.ctx, run.audit);
    const message = renderPostMortem(view, timeline, auditVerdictOf(run));
    expect(checkBlockLimits(message.blocks)).toEqual([]);
    const text = JSON.stringify(message.blocks);
    for (const heading of [
      'Post-Mortem: 2026-11-23 Production Rollback',
      '*Summary*',
      '*Timeline*',
      '*Root Cause*',
      '*Action Items*',
      '*Lessons Learned*',
    ]) {
      expect(text).toContain(heading);
    }
    const lines = (message.blocks ?? [])
      .flatMap((b) => (b.type === 'section' && b.text ? b.text.text.split('\n') : []))
      .filter((l) => l.startsWith('• <!date^'));
    expect(lines).toHaveLength(timeline.length);
    timeline.forEach((event, i) => {
      expect(lines[i]).toContain(
        `<!date^${event.at / SECOND}^{date_short_pretty} {time_secs}|${utcText(event.at)}>`,
      );
      expect(lines[i]).toMatch(event.by.startsWith('U') ? `<@${event.by}>` : `\`${event.by}\``);
      // The fallback text carries the same line, for readers of `text`.
      expect(message.text).toContain(lines[i]);
    });
    expect(text).toContain('Approved as *on-call-engineer*');
    expect(text).toContain('retry of step 2/2');
    expectGolden('post-mortem-resolved', message);
  });

  it('drafts one for an aborted rollback too, escaping what people typed', () => {
    const run = abortedRun();
    const message = renderPostMortem(
      viewOf(run, NOW),
      postMortemTimeline(run.ctx, run.audit),
      auditVerdictOf(run),
    );
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('Rollback Ended (aborted)');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<b>');
    expectGolden('post-mortem-aborted', message);
  });

  it('stays within Slack limits for a very long timeline', () => {
    const run = new RecordingDriver(rollbackInput());
    run.send(ev.approve(at(MINUTE)));
    for (let i = 0; i < 300; i++) {
      run.send(ev.started(at(2 * MINUTE + i * 10 * SECOND), 0, i + 1));
      run.send(ev.failed(at(2 * MINUTE + i * 10 * SECOND + 5 * SECOND), 0, 'x'.repeat(400)));
      run.send(ev.retry(at(2 * MINUTE + i * 10 * SECOND + 6 * SECOND), 0));
    }
    const message = renderPostMortem(
      viewOf(run, NOW),
      postMortemTimeline(run.ctx, run.audit),
      auditVerdictOf(run),
    );
    expect(checkBlockLimits(message.blocks)).toEqual([]);
    expect(JSON.stringify(message.blocks)).toContain('The timeline goes on');
    expect(JSON.stringify(message.blocks)).toContain('Timeline verified');
  });

  it('says whether its timeline was verified against the audit chain, and which entry broke', () => {
    const run = resolvedJourney();
    const render = (verdict: ReturnType<typeof auditVerdictOf>) =>
      renderPostMortem(viewOf(run, NOW), postMortemTimeline(run.ctx, run.audit), verdict);
    const intact = auditVerdictOf(run);
    expect(intact.status).toBe('verified');
    const verified = render(intact);
    const head = intact.status === 'verified' ? intact.head.slice(0, 16) : '';
    expect(verified.text).toContain(
      `🔒 Timeline verified: the audit chain of its ${run.audit.length} entries holds. Head \`${head}\``,
    );
    expect(JSON.stringify(verified.blocks)).toContain(`npx rollback-bot audit verify ${run.ctx.id}`);

    const edited = auditVerdictOf(run, (entries) =>
      entries.map((entry, i) => (i === 2 ? { ...entry, by: USERS.lead } : entry)),
    );
    const broken = render(edited);
    expect(broken.text).toMatch(
      /🚨 Timeline NOT verified: audit entry 3 \(version 3\) of <!date\^\d+\^[^|]+\|[^>]+> does not hold: its content differs from what was written/,
    );
    expect(checkBlockLimits(broken.blocks)).toEqual([]);

    const legacy = auditVerdictOf(run, (entries) => entries.map(({ prev: _p, hash: _h, ...rest }) => rest));
    // The record still names the head: stripping the hashes does not pass for a legacy trail.
    expect(legacy.status).toBe('broken');
    const old = verifyAuditChain({
      rollbackId: run.ctx.id,
      entries: run.audit.map((entry, i) => ({ ...entry, version: i + 1 })),
      record: { version: run.audit.length },
    });
    expect(render(old).text).toContain(
      `Timeline not verified: its ${run.audit.length} audit entries were written before rollback-bot 0.2.0 and carry no hash.`,
    );
  });
});
