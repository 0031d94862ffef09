/**
 * Tells the people outside the incident thread (DESIGN section 7): every registered stakeholder
 * target the plan (or the Communications manifest it uses) names, each with its template rendered
 * for it. Called for every `notify` effect after the thread got it; the targets hand their calls to
 * the background and the effect is acknowledged at once, so a slow or dead stakeholder target never
 * delays the rollback. A target that fails is reported in the thread. Drills tell nobody outside:
 * they are practice in staging.
 */
import type { RollbackView } from '../app/rollback-view.js';
import type { CommunicationEvent } from '../domain/communications.js';
import type { CommunicationVars } from '../domain/communication-vars.js';
import type { CommunicationsPolicy } from '../domain/communications.js';
import type { RollbackPlan } from '../domain/plan.js';
import type { NotifyDetail } from '../domain/rollback-types.js';
import type { Logger } from '../lib/logging.js';
import { escapeMrkdwn } from '../slack/blocks/text.js';
import { COLLECTIONS } from '../store/collections.js';
import { doOnce } from '../store/once.js';
import type { Docs, OutboxEffect } from '../store/store.js';
import type { StakeholderRegistry } from './target-registry.js';
import type { DeliveryContext, RenderedNotice, StakeholderNotice, StakeholderTarget } from './target.js';
import {
  communicationEventOf,
  communicationVars,
  renderSnsSubject,
  renderTemplate,
  resolveTemplate,
  templateSources,
  type TemplateSources,
} from './templates/index.js';

/** The `doOnce` records of every target: `<effectId>:<part>`. */
const POSTED = COLLECTIONS.stakeholderPosts;

export interface StakeholderOptions {
  registry: StakeholderRegistry;
  /** Where `once` keeps its claims. */
  store: Docs;
  /** The rollback as of `atLeast` (the notice's version) or newer. */
  view: (rollbackId: string, atLeast: number) => Promise<RollbackView | null>;
  planOf: (service: string) => RollbackPlan | undefined;
  communicationsOf: (plan: RollbackPlan) => CommunicationsPolicy | undefined;
  /**
   * Posts a line in the rollback's thread (a target failed). The message is Slack mrkdwn as it is
   * to be shown: its channel mention works, and the foreign text in it (errors) is escaped here.
   */
  report: (rollbackId: string, message: string) => void;
  log: Logger;
}

export type StakeholderNotifier = (effect: OutboxEffect) => Promise<void>;

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
    const notice: StakeholderNotice = {
      effectId: effect.id,
      detail,
      event: communicationEventOf(detail),
      at: detail.at ?? effect.createdAt,
      rollback: view,
    };
    const texts = {
      sources: templateSources(plan, policy),
      vars: communicationVars(view, detail, notice.at),
    };
    const context = deliveryContext(options, effect.id, view.id);
    // One after another, in registration order: each `deliver` returns once its call has started.
    for (const target of targets) {
      const settings = target.settingsOf(plan, policy);
      if (settings === undefined) continue;
      const event = target.hears(notice, settings);
      if (event === null) continue;
      const rendered = render(options, target, event, view.id, texts);
      if (rendered) await target.deliver(notice, rendered, settings, context);
    }
  };
}

/** The target's template for `event`, rendered; null (and said in the thread) when it cannot be. */
function render(
  options: StakeholderOptions,
  target: StakeholderTarget,
  event: CommunicationEvent,
  rollbackId: string,
  { sources, vars }: { sources: TemplateSources; vars: CommunicationVars },
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
      { err: error, event, target: target.kind, rollbackId },
      'template could not be rendered',
    );
    options.report(
      rollbackId,
      `The ${event} message for ${target.kind} could not be written: ${escapeMrkdwn(String(error))}`,
    );
    return null;
  }
}

function deliveryContext(options: StakeholderOptions, effectId: string, rollbackId: string): DeliveryContext {
  const { store, log } = options;
  return {
    once: (part, work, failed) => {
      let working = false;
      let started = (): void => undefined;
      const began = new Promise<void>((resolve) => {
        started = resolve;
      });
      const ran = doOnce(store, POSTED, `${effectId}:${part}`, async () => {
        working = true;
        started();
        await work();
        return true;
      }).then(
        () => undefined,
        (error: unknown) => {
          // Before the work began, the claim failed: the caller hears it. After, the work did.
          if (!working) throw error;
          try {
            failed(error);
          } catch (failure) {
            log.error({ err: failure, rollbackId }, 'a stakeholder failure could not be handled');
          }
        },
      );
      return Promise.race([began, ran]);
    },
    report: (message) => {
      options.report(rollbackId, message);
    },
    log,
  };
}
