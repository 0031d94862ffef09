/**
 * A plan's (or its Communications manifest's) own text for a notice, for one target; null when the
 * default applies, so the Slack thread keeps its rich default rendering unless a team wrote its own.
 */
import type { RollbackView } from '../../app/rollback-view.js';
import type { CommunicationTarget } from '../../domain/communications.js';
import type { NotifyDetail } from '../../domain/rollback-types.js';
import { communicationEventOf } from './events.js';
import { renderTemplate } from './render.js';
import { resolveTemplate, type TemplateSources } from './resolve.js';
import { communicationVars, messageFacts, type MessageFacts } from './variables.js';
import type { Logger } from 'pino';
import { communicationsOf, type Catalog } from '../../app/rollback-service.js';
import { templateSources } from './resolve.js';

export function renderOverride(
  notice: NotifyDetail,
  view: RollbackView,
  at: number,
  target: CommunicationTarget,
  sources: TemplateSources,
  facts: MessageFacts,
): string | null {
  const event = communicationEventOf(notice);
  if (event === null) return null;
  const template = resolveTemplate(event, target, sources);
  if (template.source === 'default') return null;
  return renderTemplate(template.text, communicationVars(view, notice, at, facts), target);
}

/**
 * The plan's own Slack text for a notice, read from the catalog in force: null for the default, and
 * null (logged) when the plan's template cannot be rendered, so a template bug never loses a notice.
 */
export function planNoticeText(deps: {
  catalog: () => Catalog;
  now: () => number;
  log: Logger;
}): (notice: NotifyDetail & { at?: number }, view: RollbackView) => string | null {
  return (notice, view) => {
    const catalog = deps.catalog();
    const plan = catalog.plans.get(view.service);
    if (!plan) return null;
    try {
      const communications = communicationsOf(catalog, plan);
      const sources = templateSources(plan, communications);
      const facts = messageFacts(plan, communications);
      return renderOverride(notice, view, notice.at ?? deps.now(), 'slack', sources, facts);
    } catch (error) {
      deps.log.warn(
        { err: error, rollbackId: view.id },
        'the plan template could not be rendered; default used',
      );
      return null;
    }
  };
}
