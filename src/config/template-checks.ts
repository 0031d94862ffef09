/**
 * Checks the communication templates of `Communications` manifests and of plans' `communications`
 * blocks: a misspelt variable fails `validate` instead of reaching stakeholders as an error.
 */
import { checkTemplate } from '../notifiers/templates/check.js';
import type { IssuePath } from '../schema/issues.js';
import type { CommunicationsManifest, RollbackPlanManifest } from './manifest-schema.js';
import type { Finding } from './template-refs.js';

export function checkCommunicationsTemplates({ spec }: CommunicationsManifest): Finding[] {
  return Object.entries(spec.templates).flatMap(([event, template]) => {
    const at = ['spec', 'templates', event];
    if (typeof template === 'string') return checkText(template, at);
    return Object.entries(template).flatMap(([target, text]) => checkText(text, [...at, target]));
  });
}

export function checkPlanTemplates({ spec }: RollbackPlanManifest): Finding[] {
  return Object.entries(spec.communications?.templates ?? {}).flatMap(([event, text]) =>
    checkText(text, ['spec', 'communications', 'templates', event]),
  );
}

function checkText(text: string, path: IssuePath): Finding[] {
  const multiline = text.trimEnd().includes('\n');
  return checkTemplate(text).map((finding) => ({
    path,
    severity: 'error',
    message:
      multiline && finding.line !== undefined
        ? `template line ${finding.line}: ${finding.message}`
        : finding.message,
  }));
}
