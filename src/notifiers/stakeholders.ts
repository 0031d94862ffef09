/**
 * Tells the people outside the incident thread (DESIGN section 7): every registered stakeholder
 * target the plan (or the Communications manifest it uses) names, each with its template rendered
 * for it. Called for every `notify` effect after the thread got it; the rendered messages are kept in
 * the stakeholder outbox (stakeholder-outbox.ts), which sends them in the background, so a slow or
 * dead stakeholder target never delays the rollback and hears everything when it is back. The
 * effect is acknowledged once they are kept. A target that fails is reported in the thread. Drills
 * tell nobody outside: they are practice in staging.
 *
 * `incident-opened` (seed 004's INITIAL INCIDENT) is what stakeholders hear first: when an alert
 * opens an incident (`incidentOpened`, from the incident service), or when a rollback is declared
 * with no incident open (its `declared` notice, here). Either way it goes through the same targets
 * under the id `incident-opened:<incident or rollback id>`, so a redelivered alert, a second
 * replica or a redelivered effect tells nobody twice.
 */
import type { RollbackView } from '../app/rollback-view.js';
import type { CommunicationEvent } from '../domain/communications.js';
import type { CommunicationVars } from '../domain/communication-vars.js';
import type { CommunicationsPolicy } from '../domain/communications.js';
import type { RollbackPlan } from '../domain/plan.js';
import type { NotifyDetail } from '../domain/rollback-types.js';
import type { Logger } from '../lib/logging.js';
import { escapeMrkdwn } from '../slack/blocks/text.js';
import type { OutboxEffect } from '../store/store.js';
import type { StakeholderOutbox } from './stakeholder-outbox.js';
import type { StakeholderRegistry } from './target-registry.js';
import type { NoticeSubject, RenderedNotice, StakeholderNotice, StakeholderTarget } from './target.js';
import {
  communicationEventOf,
  communicationVars,
  incidentVars,
  messageFacts,
  renderSnsSubject,
  renderTemplate,
  resolveTemplate,
  templateSources,
  type OpenedIncident,
  type TemplateSources,
} from './templates/index.js';

/** The notice id of an incident's `incident-opened` (or a rollback's declared without one). */
export const incidentOpenedId = (id: string): string => `incident-opened:${id}`;

export interface StakeholderOptions {
  registry: StakeholderRegistry;
  /** Keeps the messages until their targets take them. */
  outbox: Pick<StakeholderOutbox, 'keep'>;
  /** The rollback as of `atLeast` (the notice's version) or newer. */
  view: (rollbackId: string, atLeast: number) => Promise<RollbackView | null>;
  planOf: (service: string) => RollbackPlan | undefined;
  communicationsOf: (plan: RollbackPlan) => CommunicationsPolicy | undefined;
  /**
   * The recorded current and previous versions of a service (what a rollback would go from and
   * to), for `incident-opened` before any rollback; absent: unknown.
   */
  versionsOf?: (service: string, environment: string) => Promise<{ from: string | null; to: string | null }>;
  /**
   * Posts a line in the rollback's thread (a target failed). The message is Slack mrkdwn as it is
   * to be shown: its channel mention works, and the foreign text in it (errors) is escaped here.
   */
  report: (rollbackId: string, message: string) => void;
  log: Logger;
}

export type StakeholderNotifier = (effect: OutboxEffect) => Promise<void>;

/** Tells the plan's stakeholders that an alert opened an incident; repeats are harmless. */
export type IncidentOpenedNotifier = (incident: OpenedIncident, at: number) => Promise<void>;

/** How one notice is worded: the plan's template sources and the variables of this moment. */
interface Texts {
  sources: TemplateSources;
  vars: () => Promise<CommunicationVars>;
}

export function stakeholderNotifier(options: StakeholderOptions): StakeholderNotifier {
  const { registry } = options;
  return async (effect) => {
    const detail = effect.payload as unknown as NotifyDetail & { at?: number };
    const targets = registry.targets().filter((target) => target.mayHear(detail));
    if (targets.length === 0) return;
    const view = await options.view(effect.rollbackId, effect.version);
    if (!view || view.drill) return;
    const plan = options.planOf(view.service);
    if (!plan) return;
    const policy = options.communicationsOf(plan);
    const at = detail.at ?? effect.createdAt;
    const subject: NoticeSubject = {
      kind: 'rollback',
      id: view.id,
      service: view.service,
      environment: view.environment,
    };
    const facts = messageFacts(plan, policy);
    const sources = templateSources(plan, policy);
    if (detail.event === 'declared' && view.incidentId === undefined) {
      // No alert opened an incident: this declaration opens it, and stakeholders hear that first.
      const opened = { effectId: incidentOpenedId(view.id), detail: null, at, subject, rollback: view };
      await tell(
        options,
        registry.targets(),
        plan,
        policy,
        { ...opened, event: 'incident-opened' },
        {
          sources,
          vars: () => Promise.resolve(communicationVars(view, null, at, facts)),
        },
      );
    }
    const notice: StakeholderNotice = {
      effectId: effect.id,
      detail,
      event: communicationEventOf(detail),
      at,
      subject,
      rollback: view,
    };
    await tell(options, targets, plan, policy, notice, {
      sources,
      vars: () => Promise.resolve(communicationVars(view, detail, at, facts)),
    });
  };
}

export function incidentOpenedNotifier(options: StakeholderOptions): IncidentOpenedNotifier {
  return async (incident, at) => {
    const plan = options.planOf(incident.service);
    if (!plan || !plan.environments.includes(incident.environment)) return;
    const policy = options.communicationsOf(plan);
    const notice: StakeholderNotice = {
      effectId: incidentOpenedId(incident.id),
      detail: null,
      event: 'incident-opened',
      at,
      subject: {
        kind: 'incident',
        id: incident.id,
        service: incident.service,
        environment: incident.environment,
      },
      rollback: null,
    };
    const unknown = { from: null, to: null };
    await tell(options, options.registry.targets(), plan, policy, notice, {
      sources: templateSources(plan, policy),
      vars: async () => {
        const versions =
          (await options.versionsOf?.(incident.service, incident.environment).catch((error: unknown) => {
            options.log.warn({ err: error, incident: incident.id }, 'recorded versions could not be read');
            return unknown;
          })) ?? unknown;
        return incidentVars(incident, plan, versions, at, messageFacts(plan, policy));
      },
    });
  };
}

/**
 * In registration order, each target's messages kept before the next target's. The variables are
 * worked out once, and only when some target hears the notice.
 */
async function tell(
  options: StakeholderOptions,
  targets: readonly StakeholderTarget[],
  plan: RollbackPlan,
  policy: CommunicationsPolicy | undefined,
  notice: StakeholderNotice,
  texts: Texts,
): Promise<void> {
  let vars: CommunicationVars | undefined;
  for (const target of targets) {
    const settings = target.settingsOf(plan, policy);
    if (settings === undefined) continue;
    const event = target.hears(notice, settings);
    if (event === null) continue;
    vars ??= await texts.vars();
    const rendered = render(options, target, event, notice.subject, texts.sources, vars);
    if (!rendered) continue;
    const messages = target.messages(notice, rendered, settings).map((message) => ({
      lane: message.lane,
      id: `${notice.effectId}:${message.part}`,
      body: message.body,
    }));
    if (messages.length > 0) await options.outbox.keep(target, notice.subject, messages);
  }
}

/** The target's template for `event`, rendered; null (and said in the thread) when it cannot be. */
function render(
  options: StakeholderOptions,
  target: StakeholderTarget,
  event: CommunicationEvent,
  subject: NoticeSubject,
  sources: TemplateSources,
  vars: CommunicationVars,
): RenderedNotice | null {
  const template = resolveTemplate(event, target.template, sources);
  try {
    return {
      event,
      text: renderTemplate(template.text, vars, target.template),
      subject: template.subject === undefined ? '' : renderSnsSubject(template.subject, vars),
    };
  } catch (error) {
    options.log.warn(
      { err: error, event, target: target.kind, [`${subject.kind}Id`]: subject.id },
      'template could not be rendered',
    );
    report(
      options,
      subject,
      `The ${event} message for ${target.kind} could not be written: ${escapeMrkdwn(String(error))}`,
    );
    return null;
  }
}

/** In the rollback's thread; an incident without a rollback has none here, so the log says it. */
export function report(
  options: Pick<StakeholderOptions, 'report' | 'log'>,
  subject: Pick<NoticeSubject, 'kind' | 'id'>,
  message: string,
): void {
  if (subject.kind === 'rollback') options.report(subject.id, message);
  else options.log.warn({ incident: subject.id, message }, 'stakeholders of an incident were not told');
}
