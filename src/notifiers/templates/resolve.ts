/**
 * Which template text a message uses: the plan's override for the event, else the `Communications`
 * manifest's text for the target (or its one text for every target), else the default.
 */
import type { CommunicationEvent } from '../../domain/communications.js';
import type { CommunicationsPolicy, CommunicationTarget } from '../../domain/communications.js';
import type { PlanCommunications } from '../../domain/plan.js';
import { DEFAULT_TEMPLATES } from './defaults.js';

export interface TemplateSources {
  /** The plan's `communications.templates`: one text per event, for every target. */
  plan?: PlanCommunications['templates'];
  /** The `Communications` manifest the plan uses, if any. */
  communications?: Pick<CommunicationsPolicy, 'templates'>;
}

/** The sources of a plan: its own overrides and the Communications manifest it uses. */
export function templateSources(
  plan: { communications?: { templates?: PlanCommunications['templates'] } | undefined },
  communications: Pick<CommunicationsPolicy, 'templates'> | undefined,
): TemplateSources {
  const own = plan.communications?.templates;
  return {
    ...(own === undefined ? {} : { plan: own }),
    ...(communications === undefined ? {} : { communications }),
  };
}

export interface ResolvedTemplate {
  text: string;
  source: 'plan' | 'communications' | 'default';
  /** SNS only: the subject line template (manifests do not override it). */
  subject?: string;
}

export function resolveTemplate(
  event: CommunicationEvent,
  target: CommunicationTarget,
  sources: TemplateSources = {},
): ResolvedTemplate {
  const defaults = DEFAULT_TEMPLATES[event];
  const subject = target === 'sns' ? { subject: defaults.snsSubject } : {};
  const fromPlan = sources.plan?.[event];
  if (fromPlan !== undefined) return { text: fromPlan, source: 'plan', ...subject };
  const fromManifest = sources.communications?.templates[event]?.[target];
  if (fromManifest !== undefined) return { text: fromManifest, source: 'communications', ...subject };
  return { text: defaults[target], source: 'default', ...subject };
}
