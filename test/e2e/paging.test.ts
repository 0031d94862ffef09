/**
 * Who is paged, through the whole bot: the mentions come from the authority policy of the
 * rollback's own plan (two policies naming their roles alike page their own people), a role given
 * as user ids is mentioned by id, and a tier whose user group Slack reports empty pages the next
 * role up at once, saying so in the thread and on the card. Reminders page the same people, read
 * again at the time of each reminder.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CHANNEL,
  eventually,
  forRollback,
  PEOPLE,
  startBotHarness,
  type BotHarness,
} from '../support/bot-harness.js';

let harness: BotHarness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** The payments team's policy: the same role names as `default`, its own user groups. */
const PAYMENTS_POLICY = `apiVersion: rollback-bot/v1
kind: AuthorityPolicy
metadata: { name: payments-authority }
spec:
  roles:
    - { name: on-call-engineer, members: { usergroup: S0PAYONCALL } }
    - { name: team-lead, members: { usergroup: S0PAYLEADS } }
  tiers:
    - { after: 0m, approver: on-call-engineer, notify: team-lead }
    - { after: 15m, approver: team-lead }
  selfApproval: true
  approvalsRequired: 1
  reminderEvery: 5m`;

const DEFAULT_POLICY = `apiVersion: rollback-bot/v1
kind: AuthorityPolicy
metadata: { name: default }
spec:
  roles:
    - { name: on-call-engineer, members: { usergroup: S0ONCALL } }
    - { name: team-lead, members: { users: [${PEOPLE.lead}] } }
  tiers:
    - { after: 0m, approver: on-call-engineer, notify: team-lead }
    - { after: 15m, approver: team-lead }
  selfApproval: true
  approvalsRequired: 1`;

const plan = (service: string, authority: string): string => `apiVersion: rollback-bot/v1
kind: RollbackPlan
metadata: { name: ${service} }
spec:
  service: ${service}
  channel: ${CHANNEL}
  environments: [production]
  criticality: high
  rto: 15m
  authority: ${authority}
  defaultStrategy: quick
  strategies:
    quick:
      steps:
        - { name: Switch back, uses: command, with: { argv: ["true"], timeout: 10s } }`;

/**
 * The payments policy comes first: a role -> group map across policies (first policy wins) would
 * page the payments team for checkout too.
 */
function planFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rollback-bot-paging-')), 'plans.yaml');
  writeFileSync(
    file,
    [
      PAYMENTS_POLICY,
      DEFAULT_POLICY,
      plan('checkout', 'default'),
      plan('payments', 'payments-authority'),
    ].join('\n---\n') + '\n',
  );
  return file;
}

async function start(groups: Record<string, string[]>): Promise<BotHarness> {
  const h = (harness = await startBotHarness({ planFile: planFile() }));
  Object.assign(h.sim.config.usergroups, groups);
  return h;
}

async function declare(h: BotHarness, service: string) {
  const command = await h.driver.slashCommand({
    user: PEOPLE.declarer,
    channel: CHANNEL,
    text: `${service} --env production --to v1.0.0 --reason "5xx spike"`,
    expectResponses: 1,
  });
  const id = /rb-[0-9a-f]+/.exec(JSON.stringify(command.responses))?.[0];
  if (!id) throw new Error(`no rollback id in ${JSON.stringify(command.responses)}`);
  const card = () => h.sim.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));
  const ts = (await eventually(card, Boolean))!.ts;
  return {
    id,
    card: () => JSON.stringify(card()?.blocks),
    thread: () =>
      h.sim
        .replies(CHANNEL, ts)
        .map((r) => r.text)
        .join('\n'),
  };
}

const approvalRequested = (text: string): boolean => text.includes('🔐 Approval needed');

describe('paging from the rollback’s own policy', () => {
  it('pages each policy’s own groups under shared role names, and a user-id role by id', async () => {
    const h = await start({ S0PAYONCALL: ['U0PAY1'], S0PAYLEADS: ['U0PAYLEAD1'] });
    const checkout = await declare(h, 'checkout');
    const payments = await declare(h, 'payments');

    const checkoutThread = await eventually(checkout.thread, approvalRequested);
    expect(checkoutThread).toContain('<!subteam^S0ONCALL> (on-call-engineer) or above may approve');
    // team-lead of `default` is a user id: mentioned, not just named.
    expect(checkoutThread).toContain(`FYI <@${PEOPLE.lead}> (team-lead)`);
    expect(checkoutThread).not.toContain('S0PAY');

    const paymentsThread = await eventually(payments.thread, approvalRequested);
    expect(paymentsThread).toContain('<!subteam^S0PAYONCALL> (on-call-engineer) or above may approve');
    expect(paymentsThread).toContain('FYI <!subteam^S0PAYLEADS> (team-lead)');
    expect(paymentsThread).not.toContain('S0ONCALL>');
    expect(paymentsThread).not.toContain('Nobody holds');

    // The reminder pages the same people.
    h.clock.now += 5 * 60_000 + 1_000;
    h.bot.runtime.timers.nudge();
    const reminded = await eventually(payments.thread, (text) => text.includes('⏰ Reminder'));
    expect(reminded.slice(reminded.indexOf('⏰ Reminder'))).toContain(
      '<!subteam^S0PAYONCALL> (on-call-engineer)',
    );
    const checkoutReminded = await eventually(checkout.thread, (text) => text.includes('⏰ Reminder'));
    expect(checkoutReminded.slice(checkoutReminded.indexOf('⏰ Reminder'))).toContain(
      '<!subteam^S0ONCALL> (on-call-engineer)',
    );
  }, 60_000);

  it('pages the next role up at once when the tier’s user group is empty, and says so', async () => {
    const h = await start({ S0PAYONCALL: [], S0PAYLEADS: [PEOPLE.lead] });
    const payments = await declare(h, 'payments');

    const thread = await eventually(payments.thread, approvalRequested);
    expect(thread).toContain('*on-call-engineer* or above may approve');
    expect(thread).toContain('⚠️ Nobody holds *on-call-engineer*: paging <!subteam^S0PAYLEADS> (team-lead).');
    expect(thread).not.toContain('<!subteam^S0PAYONCALL>');
    await eventually(payments.card, (card) =>
      card.includes('⚠️ Nobody holds *on-call-engineer*: paging *team-lead*.'),
    );

    // Someone joins the on-call group: the next reminder pages them again, and the card says nothing.
    h.sim.config.usergroups['S0PAYONCALL'] = [PEOPLE.oncall];
    h.clock.now += 5 * 60_000 + 1_000;
    h.bot.runtime.timers.nudge();
    const reminded = await eventually(payments.thread, (text) => text.includes('⏰ Reminder'));
    const reminder = reminded.slice(reminded.indexOf('⏰ Reminder'));
    expect(reminder).toContain('<!subteam^S0PAYONCALL> (on-call-engineer) or above may approve');
    expect(reminder).not.toContain('Nobody holds');
    await eventually(
      payments.card,
      (card) => card.includes('Who may approve now') && !card.includes('Nobody holds'),
    );

    // The team lead paged in their place may approve at once: "or above".
    await h.driver.click({
      user: PEOPLE.lead,
      actionId: 'rollback:approve',
      value: forRollback(payments.id),
    });
    await eventually(
      () => h.bot.reads.view(payments.id),
      (view) => view?.state === 'resolved',
    );
  }, 60_000);
});
