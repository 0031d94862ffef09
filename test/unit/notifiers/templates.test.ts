/**
 * Communication templates: the default of every event and target rendered against golden files,
 * the variables every message offers, strictness at check and at render time, Slack escaping,
 * override order, and hostile templates.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RollbackView } from '../../../src/app/rollback-view.js';
import { COMMUNICATION_EVENTS, type CommunicationEvent } from '../../../src/domain/communications.js';
import { toCommunicationsPolicy } from '../../../src/config/to-domain.js';
import { COMMUNICATION_VARIABLES, type CommunicationVars } from '../../../src/domain/communication-vars.js';
import type { CommunicationTarget } from '../../../src/domain/communications.js';
import type { NotifyDetail, NotifyEvent } from '../../../src/domain/rollback-types.js';
import { TEMPLATE_VARIABLES } from '../../../src/domain/template-vars.js';
import {
  checkTemplate,
  communicationEventOf,
  communicationVars,
  DEFAULT_TEMPLATES,
  incidentVars,
  messageFacts,
  type MessageFacts,
  MAX_OUTPUT_CHARS,
  MAX_SNS_SUBJECT_CHARS,
  MAX_TEMPLATE_CHARS,
  renderSnsSubject,
  renderTemplate,
  resolveTemplate,
  TemplateError,
} from '../../../src/notifiers/templates/index.js';
import { MAX_LIST_ITEMS } from '../../../src/notifiers/templates/render.js';
import { MINUTE, SECOND, T0, USERS } from '../../support/domain-fixtures.js';
import { expectGoldenText } from '../../support/golden.js';
import {
  abortedView,
  baseView,
  declaredView,
  failedStepView,
  resolvedView,
  validatingView,
  withOwnership,
} from '../../support/view-fixtures.js';
import type { Incident } from '../../../src/domain/incident.js';

const GOLDEN = join(import.meta.dirname, 'golden');
const TARGETS: CommunicationTarget[] = ['slack', 'sns', 'statuspage'];

interface Case {
  view: RollbackView;
  notice: NotifyDetail | null;
  at: number;
}

const tier = (index: number, approver: string, notify: string, from: number, to: number) => ({
  index,
  approver,
  notify,
  since: T0 + from,
  until: T0 + to,
});

/** The plan of the fixtures: a high-criticality service, updates every 5 minutes. */
const FACTS: MessageFacts = { criticality: 'high', outage: 'partial_outage', updateEveryMs: 5 * MINUTE };

/**
 * One realistic moment per event; `failed` comes from an `aborted` notice, as the machine sends it.
 * `incident-opened` here is a rollback declared with no incident open (the alert's is below).
 */
const CASES: Record<CommunicationEvent, Case> = {
  'incident-opened': { view: withOwnership(declaredView()), notice: null, at: T0 + 2 * MINUTE },
  'rollback-declared': {
    view: withOwnership(declaredView()),
    notice: { event: 'declared', autoStartAt: null },
    at: T0 + 2 * MINUTE,
  },
  'approval-requested': {
    view: declaredView(),
    notice: {
      event: 'approval-requested',
      tier: tier(0, 'on-call-engineer', 'team-lead', 0, 15 * MINUTE),
      approvals: { count: 1, required: 2 },
      expiresAt: T0 + 60 * MINUTE,
    },
    at: T0 + 2 * MINUTE,
  },
  escalated: {
    view: declaredView(),
    notice: {
      event: 'escalated',
      tier: tier(1, 'team-lead', 'engineering-manager', 15 * MINUTE, 30 * MINUTE),
    },
    at: T0 + 15 * MINUTE,
  },
  authorized: {
    view: failedStepView(),
    notice: { event: 'authorized', via: 'approval' },
    at: T0 + 5 * MINUTE,
  },
  'step-started': {
    view: failedStepView(),
    notice: { event: 'step-started', stepIndex: 1, attempt: 2 },
    at: T0 + 6 * MINUTE,
  },
  'step-succeeded': {
    view: validatingView(),
    notice: { event: 'step-succeeded', stepIndex: 1, attempt: 1 },
    at: T0 + 6 * MINUTE + 10 * SECOND,
  },
  'step-failed': {
    view: failedStepView(),
    notice: {
      event: 'step-failed',
      stepIndex: 1,
      attempt: 2,
      error: 'exit code 1: traffic-router: upstream "blue" has 0 healthy hosts',
      next: 'ask',
      choices: ['retry', 'skip', 'abort'],
    },
    at: T0 + 6 * MINUTE + 45 * SECOND,
  },
  'validation-passed': {
    view: resolvedView(),
    notice: { event: 'validation-passed', accepted: false, stabilizeUntil: T0 + 14 * MINUTE },
    at: T0 + 9 * MINUTE,
  },
  'validation-failed': {
    view: validatingView(),
    notice: {
      event: 'validation-failed',
      checkIndex: 0,
      status: 'failed',
      detail: 'HTTP 503 from /healthz after 3 attempts',
      choices: ['revalidate', 'accept', 'abort'],
    },
    at: T0 + 8 * MINUTE,
  },
  'periodic-update': { view: failedStepView(), notice: { event: 'status-update' }, at: T0 + 10 * MINUTE },
  resolved: {
    view: resolvedView(),
    notice: { event: 'resolved', reason: 'all checks passed and the service stayed healthy for 5m' },
    at: T0 + 14 * MINUTE,
  },
  failed: {
    view: abortedView(),
    notice: { event: 'aborted', reason: 'blue is unhealthy too; escalating to a hotfix' },
    at: T0 + 9 * MINUTE,
  },
  'called-off': {
    view: declaredView(),
    notice: { event: 'rejected', reason: 'the 5xx spike was a load balancer glitch, already over' },
    at: T0 + 4 * MINUTE,
  },
};

const varsOf = ({ view, notice, at }: Case): CommunicationVars => communicationVars(view, notice, at, FACTS);
const vars = (view: RollbackView = baseView()): CommunicationVars =>
  communicationVars(view, { event: 'status-update' }, T0 + 3 * MINUTE, FACTS);

/** An incident Alertmanager opened at minute 1 (alert since minute 0), the rollback offered. */
const ALERT_INCIDENT: Incident = {
  id: 'inc-1a2b3c',
  service: 'user-service',
  environment: 'production',
  startedAt: T0,
  openedAt: T0 + MINUTE,
  closedAt: null,
  alerts: [
    {
      fingerprint: 'f1',
      status: 'firing',
      name: 'HighErrorRate',
      summary: '5xx ratio 7.4% over 5m',
      source: 'alertmanager',
      startsAt: T0,
      endsAt: null,
      url: null,
    },
    {
      fingerprint: 'f2',
      status: 'firing',
      name: 'HighLatency',
      summary: 'p95 2.1s',
      source: 'alertmanager',
      startsAt: T0,
      endsAt: null,
      url: null,
    },
  ],
  overflow: 0,
  unannounced: { firing: [], resolved: [] },
  rollbackIds: [],
  trigger: {
    name: null,
    action: 'propose',
    strategy: null,
    delayMs: 0,
    fingerprint: 'f1',
    at: T0 + MINUTE,
    settled: true,
  },
  deliveries: 1,
  severity: 'critical',
};
const PLAN = {
  defaultStrategy: 'blue-green',
  rtoMs: 15 * MINUTE,
  owner: 'team-identity',
  criticality: 'high',
} as const;
const alertVars = (incident: Incident = ALERT_INCIDENT, plan: Parameters<typeof incidentVars>[1] = PLAN) =>
  incidentVars(incident, plan, { from: 'v1.5.0', to: 'v1.4.1' }, T0 + MINUTE, FACTS);

/** Dotted paths of an actual value, lists by name: what a template can reach. */
function pathsOf(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => pathsOf(v, prefix === '' ? k : `${prefix}.${k}`));
}

describe('default templates', () => {
  it('exist for every event, and every one of them passes checkTemplate', () => {
    expect(Object.keys(DEFAULT_TEMPLATES).sort()).toEqual([...COMMUNICATION_EVENTS].sort());
    for (const [event, texts] of Object.entries(DEFAULT_TEMPLATES)) {
      for (const key of ['slack', 'sns', 'snsSubject', 'statuspage'] as const) {
        expect(checkTemplate(texts[key]), `${event} ${key}`).toEqual([]);
      }
    }
  });

  it.each(Object.entries(CASES))('%s: every target renders as its golden file', (event, moment) => {
    if (moment.notice !== null) expect(communicationEventOf(moment.notice)).toBe(event);
    const v = varsOf(moment);
    for (const target of TARGETS) {
      const { text, subject, source } = resolveTemplate(event as CommunicationEvent, target);
      expect(source).toBe('default');
      const body = renderTemplate(text, v, target);
      const golden = subject === undefined ? body : `Subject: ${renderSnsSubject(subject, v)}\n\n${body}`;
      expectGoldenText(GOLDEN, `${event}.${target}`, golden);
    }
  });

  it('incident-opened at the alert: every target renders as its golden file', () => {
    const v = alertVars();
    for (const target of TARGETS) {
      const { text, subject } = resolveTemplate('incident-opened', target);
      const body = renderTemplate(text, v, target);
      const golden = subject === undefined ? body : `Subject: ${renderSnsSubject(subject, v)}\n\n${body}`;
      expectGoldenText(GOLDEN, `incident-opened-alert.${target}`, golden);
    }
  });

  it("carry seed 004's INITIAL INCIDENT fields: severity, issue, impact, action, ETA, updates", () => {
    for (const v of [alertVars(), varsOf(CASES['incident-opened'])]) {
      const slack = renderTemplate(DEFAULT_TEMPLATES['incident-opened'].slack, v, 'slack');
      for (const fact of ['Severity', 'Issue', 'Impact', 'Action', 'ETA', 'Updates']) {
        expect(slack).toContain(`*${fact}:*`);
      }
      const sns = renderTemplate(DEFAULT_TEMPLATES['incident-opened'].sns, v, 'sns');
      expect(sns).toMatch(/^Updates: every 5m, next by 2026-11-23 06:0\d:00 UTC$/m);
    }
    // The alert's severity label wins over the criticality; the ETA counts from the opening.
    expect(alertVars()).toMatchObject({
      severity: 'CRITICAL',
      criticality: 'high',
      issue: 'HighErrorRate: 5xx ratio 7.4% over 5m (and 1 more alert)',
      impact: 'partial outage',
      action: 'Rollback to the previous stable version (v1.4.1) proposed to the on-call engineer',
      eta: '2026-11-23T06:16:00.000Z',
      etaText: '2026-11-23 06:16:00 UTC',
      rto: '15m',
      updateEvery: '5m',
      nextUpdateText: '2026-11-23 06:06:00 UTC',
      owner: 'team-identity',
      toVersion: 'v1.4.1',
      rollback: { id: null, reason: null },
    });
    // A declared rollback: its criticality, its reason, the declaration plus the RTO.
    expect(varsOf(CASES['incident-opened'])).toMatchObject({
      severity: 'HIGH',
      issue: '5xx spike after the v1.5.0 deploy',
      action: 'Initiating rollback to the previous stable version (v1.4.1); awaiting approval',
      eta: '2026-11-23T06:17:00.000Z',
    });
  });

  it('show no ETA for a plan without an RTO, and say so nowhere else', () => {
    const { rtoMs: _, ...noRto } = PLAN;
    const v = alertVars(ALERT_INCIDENT, noRto);
    expect(v).toMatchObject({ eta: null, etaText: null, rto: null });
    const declared = communicationVars(declaredView(), null, T0 + 2 * MINUTE, FACTS);
    expect(declared.eta).toBeNull();
    for (const vars of [v, declared]) {
      for (const target of TARGETS) {
        const text = renderTemplate(resolveTemplate('incident-opened', target).text, vars, target);
        expect(text).not.toMatch(/ETA|restore normal service by/);
      }
    }
  });

  it('an automatic trigger is said as such; no recorded version is said without one', () => {
    const auto: Incident = {
      ...ALERT_INCIDENT,
      trigger: { ...ALERT_INCIDENT.trigger!, name: 'error-rate', action: 'auto', delayMs: 2 * MINUTE },
      severity: undefined,
    };
    const { severity: _, ...unlabelled } = auto;
    const v = incidentVars(unlabelled, PLAN, { from: null, to: null }, T0 + MINUTE, FACTS);
    expect(v.action).toBe(
      'Initiating rollback to the previous stable version automatically in 2m, unless cancelled',
    );
    expect(v.severity).toBe('HIGH');
    expect(v.toVersion).toBeNull();
  });

  it('follow the seeds: INCIDENT ALERT, ROLLBACK COMPLETE with its four facts, [RESOLVED] subject', () => {
    const opened = renderTemplate(
      DEFAULT_TEMPLATES['incident-opened'].slack,
      varsOf(CASES['incident-opened']),
      'slack',
    );
    expect(opened).toMatch(/^🚨 \*INCIDENT ALERT\* 🚨/);
    const resolved = varsOf(CASES.resolved);
    const complete = renderTemplate(DEFAULT_TEMPLATES.resolved.slack, resolved, 'slack');
    for (const fact of ['Issue', 'Resolution', 'Status', 'Next']) expect(complete).toContain(`*${fact}:*`);
    expect(complete).toContain('Rolled back *user-service* (production) to version v1.4.1');
    expect(renderSnsSubject(DEFAULT_TEMPLATES.resolved.snsSubject, resolved)).toBe(
      '[RESOLVED] [user-service] Rollback Complete',
    );
  });

  it('say DRILL when the rollback is a drill, on every target', () => {
    const drill = vars(baseView({ drill: true }));
    expect(renderTemplate(DEFAULT_TEMPLATES['rollback-declared'].slack, drill, 'slack')).toContain(
      '🧪 *DRILL*',
    );
    expect(renderTemplate(DEFAULT_TEMPLATES['rollback-declared'].sns, drill, 'sns')).toContain('(DRILL)');
    expect(renderTemplate(DEFAULT_TEMPLATES.resolved.statuspage, drill, 'statuspage')).toMatch(/^\[DRILL\] /);
    expect(renderSnsSubject(DEFAULT_TEMPLATES.resolved.snsSubject, drill)).toMatch(/^\[DRILL\] \[RESOLVED\]/);
  });

  it('keep people, errors and internal states off the customer-facing status page', () => {
    for (const [event, texts] of Object.entries(DEFAULT_TEMPLATES)) {
      expect(texts.statuspage, event).not.toMatch(
        /declaredBy|approvers|step\.error|check\.detail|rollback\.reason|outcome\.reason/,
      );
    }
  });
});

describe('communication variables', () => {
  it('include every step-parameter variable: one vocabulary for plan authors', () => {
    for (const path of TEMPLATE_VARIABLES) expect(COMMUNICATION_VARIABLES).toContain(path);
  });

  it('exist for every event, whatever applies to it, so a validated template always renders', () => {
    for (const [event, moment] of Object.entries(CASES)) {
      expect(pathsOf(varsOf(moment)).sort(), event).toEqual([...COMMUNICATION_VARIABLES].sort());
    }
  });

  it('carry the step, check, tier, approvals and outcome a notice is about', () => {
    expect(varsOf(CASES['step-failed']).step).toEqual({
      name: 'Switch traffic to blue',
      index: 2,
      attempt: 2,
      error: 'exit code 1: traffic-router: upstream "blue" has 0 healthy hosts',
    });
    expect(varsOf(CASES['validation-failed']).check).toEqual({
      name: 'Health endpoint',
      status: 'failed',
      detail: 'HTTP 503 from /healthz after 3 attempts',
    });
    expect(varsOf(CASES.escalated).tier).toEqual({
      number: 2,
      approver: 'team-lead',
      notify: 'engineering-manager',
    });
    expect(varsOf(CASES['approval-requested']).approvals).toEqual({ count: 1, required: 2 });
    expect(varsOf(CASES.authorized).approvers).toEqual([
      { user: USERS.oncall, role: 'on-call-engineer' },
      { user: USERS.oncall2, role: 'on-call-engineer' },
    ]);
    expect(varsOf(CASES.failed).outcome).toEqual({
      code: 'aborted',
      reason: 'blue is unhealthy too; escalating to a hotfix',
      by: USERS.lead,
    });
    expect(varsOf(CASES.resolved)).toMatchObject({
      at: '2026-11-23T06:14:00.000Z',
      atText: '2026-11-23 06:14:00 UTC',
      duration: '14m',
      incident: { startedAt: '2026-11-23T06:00:00.000Z', startedAtText: '2026-11-23 06:00:00 UTC' },
      rollback: { declaredAtText: '2026-11-23 06:02:00 UTC', state: 'resolved' },
      progress: { done: 3, total: 3 },
    });
  });

  it('leave what does not apply to the event null, and render it as nothing', () => {
    const v = varsOf(CASES['rollback-declared']);
    expect(v.step).toEqual({ name: null, index: null, attempt: null, error: null });
    expect(v.outcome).toEqual({ code: null, reason: null, by: null });
    expect(renderTemplate('[{{step.name}}]{{#if step.error}}!{{/if}}', v, 'sns')).toBe('[]');
  });
});

describe('criticality', () => {
  it('gives the impact and the status page outage, unless the plan overrides it', () => {
    const facts = (criticality: 'low' | 'medium' | 'high' | 'critical', componentStatus?: 'major_outage') =>
      messageFacts(
        {
          criticality,
          ...(componentStatus === undefined
            ? {}
            : { communications: { statuspage: { pageId: 'p', componentIds: [], componentStatus } } }),
        },
        undefined,
      );
    expect(facts('critical')).toEqual({
      criticality: 'critical',
      outage: 'major_outage',
      updateEveryMs: 5 * MINUTE,
    });
    expect(facts('high').outage).toBe('partial_outage');
    expect(facts('medium').outage).toBe('degraded_performance');
    expect(facts('low').outage).toBe('degraded_performance');
    expect(facts('low', 'major_outage').outage).toBe('major_outage');
    expect(communicationVars(baseView(), null, T0, facts('critical')).impact).toBe('major outage');
    expect(messageFacts({ criticality: 'high' }, { updateEveryMs: MINUTE }).updateEveryMs).toBe(MINUTE);
  });
});

describe('communicationEventOf', () => {
  const expected: Record<NotifyEvent, CommunicationEvent | null> = {
    declared: 'rollback-declared',
    'approval-requested': 'approval-requested',
    approved: null,
    escalated: 'escalated',
    reminder: null,
    'targets-changed': null,
    authorized: 'authorized',
    'step-started': 'step-started',
    'step-succeeded': 'step-succeeded',
    'step-failed': 'step-failed',
    'step-skipped': null,
    'step-interrupted': 'step-failed',
    'validation-passed': 'validation-passed',
    'validation-failed': 'validation-failed',
    'stability-lost': 'validation-failed',
    'watch-breached': null,
    'manual-check-requested': null,
    'status-update': 'periodic-update',
    'after-steps-scheduled': null,
    'after-step-started': null,
    'after-step-succeeded': null,
    'after-step-failed': null,
    'after-step-interrupted': null,
    'after-steps-cancelled': null,
    resolved: 'resolved',
    failed: 'failed',
    aborted: 'failed',
    cancelled: 'called-off',
    rejected: 'called-off',
    expired: 'called-off',
  };
  it.each(Object.entries(expected))('%s -> %s', (event, communication) => {
    expect(communicationEventOf({ event: event as NotifyEvent })).toBe(communication);
  });

  it('explains an interrupted step as a step error', () => {
    const v = communicationVars(
      failedStepView(),
      { event: 'step-interrupted', stepIndex: 1, attempt: 1, choices: ['retry', 'skip', 'abort'] },
      T0 + 7 * MINUTE,
      FACTS,
    );
    expect(v.step.error).toMatch(/^interrupted: the bot restarted while this step ran/);
  });
});

describe('strictness', () => {
  it('finds an unknown variable with a did-you-mean, at its line and column', () => {
    expect(checkTemplate('Rolled back\n{{ service }} to {{ toVersoin }}')).toEqual([
      {
        message: expect.stringMatching(
          /^unknown template variable "toVersoin" \(did you mean "toVersion"\?\); known: service,/,
        ) as unknown,
        line: 2,
        column: 21,
      },
    ]);
    expect(checkTemplate('{{#each approvers}}{{usr}}{{/each}}')[0]!.message).toMatch(
      /^unknown template variable "usr" \(did you mean "user"\?\): inside \{\{#each\}\} over approvers, the fields are user, role$/,
    );
    expect(checkTemplate('{{#each approvers}}{{service}}{{/each}}')[0]!.message).toMatch(
      /write \.\.\/service/,
    );
  });

  it('accepts loops, data variables, groups and the mention helper used as documented', () => {
    expect(
      checkTemplate(
        '{{#each approvers}}{{#if @index}}, {{/if}}{{mention user}} ({{role}}) for {{../service}} {{@root.rollback.id}}{{else}}nobody{{/each}} {{#with rollback}}{{id}}{{/with}} {{#unless drill}}live{{/unless}} {{! a comment }}',
      ),
    ).toEqual([]);
  });

  it.each([
    ['{{rollback}}', /^rollback is a group of variables, not a value: use one of rollback.id, /],
    [
      '{{approvers}}',
      /^approvers is a list: write \{\{#each approvers\}\}\{\{user\}\} \{\{role\}\}\{\{\/each\}\}$/,
    ],
    ['{{#each service}}x{{/each}}', /service is not a list; lists: approvers$/],
    ['{{@index}}', /^@index only exists inside \{\{#each\}\}$/],
    ['{{../service}}', /climbs above the template's variables$/],
    ['{{mention}}', /needs a variable, e.g. \{\{mention declaredBy\}\}$/],
    ['{{shout service}}', /^unknown helper "shout"; helpers: mention, #if, #unless, #each, #with$/],
    ['{{#iff drill}}x{{/iff}}', /^unknown block "\{\{#iff\}\}" \(did you mean "if"\?\)/],
    ['{{#if}}x{{/if}}', /takes exactly one variable/],
    ['{{#each approvers as |a|}}{{a.user}}{{/each}}', /block parameters/],
    ['{{#if drill}}unclosed', /^is not a valid template: it ends inside a \{\{ \}\} or a \{\{#block\}\}/],
    ['{{#if drill}}x{{/each}}', /^is not a valid template: if doesn't match each$/],
    ['a\n{{ service }', /^is not a valid template: unexpected text inside \{\{ \}\}/],
  ])('%j is refused', (text, message) => {
    const findings = checkTemplate(text);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]!.message).toMatch(message);
  });

  it('refuses at render time a template validate would refuse', () => {
    expect(() => renderTemplate('{{ servcie }} rolled back', vars(), 'slack')).toThrow(TemplateError);
    expect(() => renderTemplate('{{ servcie }}', vars(), 'sns')).toThrow(/did you mean "service"/);
  });

  it("throws, never prints nothing, when the caller's variables lack one (Handlebars strict mode)", () => {
    const { service: _, ...partial } = vars();
    const error = (() => {
      try {
        renderTemplate('Rolled back {{ service }}', partial as CommunicationVars, 'sns');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).code).toBe('template_invalid');
    expect((error as TemplateError).userMessage).toMatch(
      /^template could not be rendered: "service" not defined/,
    );
  });
});

describe('escaping', () => {
  const hostile = '<!channel> <script>alert(1)</script> & <@U0VICTIM> *bold*';
  const view = baseView({ reason: hostile });

  it('escapes every value for Slack mrkdwn, even through {{{ }}}', () => {
    const expected = '&lt;!channel&gt; &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;@U0VICTIM&gt; *bold*';
    expect(renderTemplate('Issue: {{ rollback.reason }}', vars(view), 'slack')).toBe(`Issue: ${expected}`);
    expect(renderTemplate('Issue: {{{ rollback.reason }}}', vars(view), 'slack')).toBe(`Issue: ${expected}`);
  });

  it('keeps mentions written in the template itself, and {{mention}} makes one from an id only', () => {
    expect(renderTemplate('by <@{{ declaredBy }}>', vars(view), 'slack')).toBe(`by <@${USERS.declarer}>`);
    expect(renderTemplate('by {{mention declaredBy}}', vars(view), 'slack')).toBe(`by <@${USERS.declarer}>`);
    const policy = vars(baseView({ declaredBy: 'policy' }));
    expect(renderTemplate('by {{mention declaredBy}}', policy, 'slack')).toBe('by _the authority policy_');
    expect(renderTemplate('by {{mention declaredBy}}', policy, 'sns')).toBe('by the authority policy');
    const forged = vars(baseView({ declaredBy: '<!channel>' }));
    expect(renderTemplate('by {{mention declaredBy}}', forged, 'slack')).toBe('by &lt;!channel&gt;');
  });

  it('{{mention}} does not take names Object.prototype carries for the policy or the bot', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const named = vars(baseView({ declaredBy: name }));
      for (const target of ['slack', 'sns', 'statuspage'] as const) {
        expect(renderTemplate('by {{mention declaredBy}}', named, target)).toBe(`by ${name}`);
      }
    }
  });

  it('leaves SNS and Statuspage text plain: no HTML escaping', () => {
    for (const target of ['sns', 'statuspage'] as const) {
      expect(renderTemplate('Issue: {{ rollback.reason }}', vars(view), target)).toBe(`Issue: ${hostile}`);
    }
  });

  it('makes SNS subjects one line of printable ASCII under 100 characters', () => {
    const long = vars(baseView({ service: `svc-${'x'.repeat(200)}`, toVersion: 'v2\n\u00e9' }));
    const subject = renderSnsSubject('[RESOLVED] [{{service}}] back on {{toVersion}}', long);
    expect(subject.length).toBeLessThanOrEqual(MAX_SNS_SUBJECT_CHARS);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(renderSnsSubject('[UPDATE] {{toVersion}} 🚀', long)).toBe('[UPDATE] v2 ? ??');
  });
});

describe('resolveTemplate: plan override > Communications manifest > default', () => {
  const communications = toCommunicationsPolicy({
    apiVersion: 'rollback-bot/v1',
    kind: 'Communications',
    metadata: { name: 'stakeholders' },
    spec: {
      targets: {},
      updateEvery: 300_000,
      templates: {
        resolved: 'manifest text for every target',
        failed: { slack: 'manifest slack text' },
      },
    },
  });
  const plan = { failed: 'plan text' };

  it.each([
    ['failed', 'slack', { plan, communications }, 'plan text', 'plan'],
    ['failed', 'sns', { plan, communications }, 'plan text', 'plan'],
    ['failed', 'slack', { communications }, 'manifest slack text', 'communications'],
    ['failed', 'sns', { communications }, DEFAULT_TEMPLATES.failed.sns, 'default'],
    ['resolved', 'statuspage', { plan, communications }, 'manifest text for every target', 'communications'],
    ['resolved', 'sns', {}, DEFAULT_TEMPLATES.resolved.sns, 'default'],
  ] as const)('%s for %s', (event, target, sources, text, source) => {
    expect(resolveTemplate(event, target, sources)).toMatchObject({ text, source });
  });

  it('keeps the default SNS subject whatever the text, and gives other targets none', () => {
    expect(resolveTemplate('failed', 'sns', { plan }).subject).toBe(DEFAULT_TEMPLATES.failed.snsSubject);
    expect(resolveTemplate('failed', 'slack', { plan }).subject).toBeUndefined();
  });
});

describe('hostile templates', () => {
  it('refuse prototype walks at check and at render time', () => {
    for (const text of [
      '{{constructor.constructor}}',
      '{{__proto__}}',
      '{{#with rollback}}{{constructor}}{{/with}}',
      '{{toString}}',
    ]) {
      expect(checkTemplate(text), text).not.toEqual([]);
      expect(() => renderTemplate(text, vars(), 'slack'), text).toThrow(TemplateError);
    }
  });

  it('refuse the helpers and partials that reach outside the text', () => {
    for (const text of ['{{log service}}', '{{lookup rollback "constructor"}}', '{{> secrets}}']) {
      expect(() => renderTemplate(text, vars(), 'sns'), text).toThrow(TemplateError);
    }
  });

  it('bound {{#each}} over a huge list: at most MAX_LIST_ITEMS items are rendered', () => {
    const approvals = Array.from({ length: 100_000 }, (_, i) => ({
      user: `U${i}`,
      role: 'on-call-engineer',
      at: new Date(T0).toISOString(),
      tier: 0,
      minute: 0,
    }));
    const out = renderTemplate(
      '{{#each approvers}}[{{user}}]{{/each}}',
      vars(baseView({ approvals })),
      'sns',
    );
    expect(out.match(/\[U\d+\]/g)).toHaveLength(MAX_LIST_ITEMS);
  });

  it('bound the output of every target, without cutting an entity in half', () => {
    const loud = vars(baseView({ reason: '<&>'.repeat(5_000) }));
    const text = '{{rollback.reason}}'.repeat(100);
    for (const target of TARGETS) {
      const out = renderTemplate(text, loud, target);
      expect(out.length, target).toBeLessThanOrEqual(MAX_OUTPUT_CHARS[target]);
      expect(out.endsWith('…'), target).toBe(true);
    }
    expect(renderTemplate(text, loud, 'slack')).toMatch(/(&lt;|&amp;|&gt;)…$/);
  });

  it('refuse a template longer than MAX_TEMPLATE_CHARS', () => {
    const text = 'x'.repeat(MAX_TEMPLATE_CHARS + 1);
    expect(checkTemplate(text)[0]!.message).toMatch(/templates are limited to 4000/);
    expect(() => renderTemplate(text, vars(), 'slack')).toThrow(TemplateError);
  });
});
