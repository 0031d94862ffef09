/** Communication templates (DESIGN section 7): variables, events, defaults, resolution, rendering, checks. */
export { checkTemplate, MAX_TEMPLATE_CHARS, type TemplateFinding } from './check.js';
export { DEFAULT_TEMPLATES, type DefaultTemplates } from './defaults.js';
export { communicationEventOf } from './events.js';
export {
  MAX_OUTPUT_CHARS,
  MAX_SNS_SUBJECT_CHARS,
  renderSnsSubject,
  renderTemplate,
  TemplateError,
} from './render.js';
export { planNoticeText, renderOverride } from './override.js';
export { resolveTemplate, templateSources, type ResolvedTemplate, type TemplateSources } from './resolve.js';
export {
  communicationVars,
  incidentVars,
  messageFacts,
  type MessageFacts,
  type OpenedIncident,
} from './variables.js';
