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
import { communicationVars } from './variables.js';

export function renderOverride(
  notice: NotifyDetail,
  view: RollbackView,
  at: number,
  target: CommunicationTarget,
  sources: TemplateSources,
): string | null {
  const event = communicationEventOf(notice);
  if (event === null) return null;
  const template = resolveTemplate(event, target, sources);
  if (template.source === 'default') return null;
  return renderTemplate(template.text, communicationVars(view, notice, at), target);
}
