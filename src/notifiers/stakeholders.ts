/**
 * Tells the people outside the incident thread (DESIGN section 7): the stakeholder Slack channels,
 * the SNS topic and the status page of the plan (or of the Communications manifest it uses), each
 * with its template rendered for that target. Called for every `notify` effect after the thread got
 * it; everything here is queued and the effect is acknowledged at once, so a slow or dead
 * stakeholder target never delays the rollback. A target that fails is reported in the thread.
 * Drills tell nobody outside: they are practice in staging.
 */
import type { RollbackView } from '../app/rollback-view.js';
import type { CommunicationEvent } from '../config/communications-schema.js';
import type { CommunicationsPolicy, CommunicationTarget } from '../domain/communications.js';
import type { RollbackPlan } from '../domain/plan.js';
import type { NotifyDetail } from '../domain/rollback-types.js';
import type { Logger } from '../logging.js';
import { channelMention, escapeMrkdwn } from '../slack/blocks/text.js';
import { COLLECTIONS } from '../store/collections.js';
import { claimOnce, doOnce, markDone, releaseOnce } from '../store/once.js';
import type { Docs, OutboxEffect } from '../store/store.js';
import type { SnsPublisher } from './sns.js';
import type { RollbackPhase, StatuspageNotifier } from './statuspage.js';
import {
  communicationEventOf,
  communicationVars,
  renderSnsSubject,
  renderTemplate,
  resolveTemplate,
  templateSources,
} from './templates/index.js';

/** What stakeholders hear when a target names no events: the seeds' "who is told what". */
export const STAKEHOLDER_EVENTS: readonly CommunicationEvent[] = [
  'rollback-declared',
  'authorized',
  'resolved',
  'failed',
  'called-off',
];

const POSTED = COLLECTIONS.stakeholderPosts;

export interface StakeholderOptions {
  store: Docs;
  view: (rollbackId: string) => Promise<RollbackView | null>;
  planOf: (service: string) => RollbackPlan | undefined;
  communicationsOf: (plan: RollbackPlan) => CommunicationsPolicy | undefined;
  slack: { postMessage(args: { channel: string; text: string }): Promise<unknown> };
  sns?: SnsPublisher | undefined;
  statuspage?: StatuspageNotifier | undefined;
  /**
   * Posts a line in the rollback's thread (a target failed). The message is Slack mrkdwn as it is
   * to be shown: its channel mention works, and the foreign text in it (errors) is escaped here.
   */
  report: (rollbackId: string, message: string) => void;
  log: Logger;
}

export type StakeholderNotifier = (effect: OutboxEffect) => Promise<void>;

export function stakeholderNotifier(options: StakeholderOptions): StakeholderNotifier {
  const { log } = options;
  return async (effect) => {
    const notice = effect.payload as unknown as NotifyDetail & { at?: number };
    const event = communicationEventOf(notice);
    if (event === null && !PHASE_EVENTS.has(notice.event)) return;
    const view = await options.view(effect.rollbackId);
    if (!view || view.drill) return;
    const phase = statuspagePhase(notice, view.steps.length);
    const plan = options.planOf(view.service);
    if (!plan) return;
    const policy = options.communicationsOf(plan);
    const at = notice.at ?? effect.createdAt;
    const sources = templateSources(plan, policy);
    const vars = communicationVars(view, notice, at);
    const render = (
      target: CommunicationTarget,
      on: CommunicationEvent,
    ): { text: string; subject: string } | null => {
      const template = resolveTemplate(on, target, sources);
      try {
        return {
          text: renderTemplate(template.text, vars, target),
          subject: template.subject === undefined ? '' : renderSnsSubject(template.subject, vars),
        };
      } catch (error) {
        log.warn({ err: error, event: on, target, rollbackId: view.id }, 'template could not be rendered');
        options.report(
          view.id,
          `The ${on} message for ${target} could not be written: ${escapeMrkdwn(String(error))}`,
        );
        return null;
      }
    };
    const wants = (events: readonly string[] | undefined, on: CommunicationEvent) =>
      (events ?? STAKEHOLDER_EVENTS).includes(on);

    const slackTarget = policy?.targets.slack;
    if (event !== null && slackTarget && wants(slackTarget.events, event)) {
      const message = render('slack', event);
      if (message) {
        for (const channel of slackTarget.channels) {
          void doOnce(options.store, POSTED, `${effect.id}:${channel}`, async () => {
            await options.slack.postMessage({ channel, text: message.text });
            return true;
          }).catch((error: unknown) => {
            log.warn({ err: error, channel, rollbackId: view.id }, 'stakeholder channel not told');
            options.report(
              view.id,
              `The stakeholder channel ${channelMention(channel)} could not be told (${event}).`,
            );
          });
        }
      }
    }

    const topicArn = plan.communications?.sns?.topicArn ?? policy?.targets.sns?.topicArn;
    if (
      event !== null &&
      topicArn !== undefined &&
      options.sns &&
      wants(policy?.targets.sns?.events, event)
    ) {
      const message = render('sns', event);
      // SNS itself only drops repeats on FIFO topics: the claim makes a redelivered effect publish
      // once. It is taken here, not in the publish, so publishes start in the order of the notices.
      const key = `${effect.id}:sns`;
      const claim = message ? await claimOnce(options.store, POSTED, key) : 'done';
      if (message && typeof claim === 'object') {
        void options.sns
          .publish({
            topicArn,
            subject: message.subject,
            message: message.text,
            attributes: { event, service: view.service, environment: view.environment, rollbackId: view.id },
            dedupeKey: effect.id,
            groupKey: view.id,
          })
          .then(() => markDone(options.store, POSTED, key, claim))
          .catch(async (error: unknown) => {
            const reason =
              error instanceof Error && 'userMessage' in error ? String(error.userMessage) : String(error);
            log.warn({ err: error, topicArn, rollbackId: view.id }, 'SNS stakeholders not told');
            options.report(view.id, `SNS stakeholders were not told (${event}): ${escapeMrkdwn(reason)}`);
            // Not published: a redelivery of the effect may try again.
            await releaseOnce(options.store, POSTED, key).catch((failure: unknown) => {
              log.warn({ err: failure, rollbackId: view.id }, 'could not release the SNS claim');
            });
          });
      }
    }

    const page = plan.communications?.statuspage ?? policy?.targets.statuspage;
    const pageEvents = policy?.targets.statuspage?.events;
    if (phase !== null && page && options.statuspage && statuspageWants(pageEvents, phase)) {
      const message = render('statuspage', event ?? phaseEvent(phase));
      if (message) {
        options.statuspage.update({
          effectId: effect.id,
          rollbackId: view.id,
          phase,
          pageId: page.pageId,
          componentIds: page.componentIds,
          name: `${view.service} (${view.environment}) degraded: rolling back`,
          body: message.text,
        });
      }
    }
  };
}

const PHASE_EVENTS = new Set<string>([
  'authorized',
  'step-started',
  'step-succeeded',
  'resolved',
  'failed',
  'aborted',
]);

/**
 * The status page follows the rollback: open when authorised, identified when the first step
 * starts, monitoring once the last step is done and validation runs, resolved at the end.
 */
export function statuspagePhase(notice: NotifyDetail, stepCount: number): RollbackPhase | null {
  switch (notice.event) {
    case 'authorized':
      return 'authorized';
    case 'step-started':
      return notice.stepIndex === 0 && notice.attempt === 1 ? 'executing' : null;
    case 'step-succeeded':
      return notice.stepIndex === stepCount - 1 ? 'validating' : null;
    case 'resolved':
      return 'resolved';
    case 'failed':
      return 'failed';
    case 'aborted':
      return 'aborted';
    default:
      return null;
  }
}

function phaseEvent(phase: RollbackPhase): CommunicationEvent {
  switch (phase) {
    case 'authorized':
      return 'authorized';
    case 'executing':
      return 'step-started';
    case 'validating':
      return 'validation-passed';
    case 'resolved':
      return 'resolved';
    case 'failed':
    case 'aborted':
      return 'failed';
  }
}

/** `incident-opened` in a status page's events stands for the incident it opens at authorisation. */
function statuspageWants(events: readonly string[] | undefined, phase: RollbackPhase): boolean {
  if (events === undefined) return true;
  const event = phaseEvent(phase);
  return events.includes(event) || (phase === 'authorized' && events.includes('incident-opened'));
}
