/**
 * The default template of every event and target, on the seeds' models: "🚨 INCIDENT ALERT 🚨"
 * (Severity / Issue / Impact / Action / ETA / Updates, seed 004's INITIAL INCIDENT), "✅ ROLLBACK COMPLETE" (Issue / Resolution / Status / Next)
 * and the SNS subjects "[RESOLVED] [Component] Rollback Complete".
 *
 * Slack texts are mrkdwn; SNS and Statuspage texts are plain. Statuspage is read by customers: it
 * names no people, errors or internal states.
 */
import type { CommunicationEvent } from '../../domain/communications.js';

export interface DefaultTemplates {
  slack: string;
  sns: string;
  /** SNS subject line: ASCII, one line, under 100 characters once rendered. */
  snsSubject: string;
  statuspage: string;
}

const lines = (...parts: string[]): string => parts.join('\n');

const DRILL_SLACK = '{{#if drill}} 🧪 *DRILL*{{/if}}';
const DRILL_TAG = '{{#if drill}}[DRILL] {{/if}}';
const DRILL_PLAIN = '{{#if drill}} (DRILL){{/if}}';
const SERVICE_SLACK = '*{{service}}* ({{environment}})';
const SERVICE_PLAIN = '{{service}} ({{environment}})';
const VERSIONS = '{{#if fromVersion}}from {{fromVersion}} {{/if}}to {{toVersion}}';
const FOOTER_SLACK = '_Rollback {{rollback.id}} · {{duration}} since the incident started_';
const FOOTER_PLAIN = 'Rollback {{rollback.id}} - {{duration}} since the incident started.';
const STEP_SLACK = 'Step {{step.index}}/{{progress.total}} *{{step.name}}*';
const STEP_PLAIN = 'Step {{step.index}} of {{progress.total}} "{{step.name}}"';
/** The ETA line, only when the plan has an RTO (a plan without one shows no ETA). */
const ETA_SLACK = '{{#if etaText}}*ETA:* {{etaText}} (RTO {{rto}})\n{{/if}}';
const ETA_PLAIN = '{{#if etaText}}ETA: {{etaText}} (RTO {{rto}})\n{{/if}}';
const UPDATES =
  '{{#if updateEvery}}every {{updateEvery}}, next by {{nextUpdateText}}{{else}}in the rollback thread{{/if}}';
const APPROVERS =
  '{{#if approvers}} Approved by {{#each approvers}}{{#if @index}}, {{/if}}{{mention user}} ({{role}}){{/each}}.{{/if}}';

export const DEFAULT_TEMPLATES: Record<CommunicationEvent, DefaultTemplates> = {
  'incident-opened': {
    slack: lines(
      `🚨 *INCIDENT ALERT* 🚨${DRILL_SLACK}`,
      '*Severity:* {{severity}}',
      `*Service:* ${SERVICE_SLACK}`,
      '*Issue:* {{issue}}',
      '*Impact:* {{impact}} ({{criticality}} criticality service)',
      '*Action:* {{action}}',
      `${ETA_SLACK}*Updates:* ${UPDATES}`,
      `*Started:* {{incident.startedAtText}}{{#if owner}} · *Owner:* {{owner}}{{/if}}`,
    ),
    sns: lines(
      `INCIDENT ALERT${DRILL_PLAIN}`,
      'Severity: {{severity}}',
      `Service: ${SERVICE_PLAIN}`,
      'Issue: {{issue}}',
      'Impact: {{impact}} ({{criticality}} criticality service)',
      'Action: {{action}}',
      `${ETA_PLAIN}Updates: ${UPDATES}`,
      'Started: {{incident.startedAtText}}{{#if owner}}\nOwner: {{owner}}{{/if}}',
    ),
    snsSubject: `${DRILL_TAG}[INCIDENT] [{{severity}}] [{{service}}] Incident in {{environment}}`,
    statuspage: `${DRILL_TAG}We are investigating an issue affecting {{service}} ({{impact}}). Our engineers are rolling back to the previous stable version.{{#if etaText}} We expect to restore normal service by {{etaText}}.{{/if}}{{#if nextUpdateText}} Next update by {{nextUpdateText}}.{{/if}}`,
  },
  'rollback-declared': {
    slack: lines(
      `🚨 *ROLLBACK DECLARED*${DRILL_SLACK}`,
      `*Service:* ${SERVICE_SLACK}`,
      '*Issue:* {{rollback.reason}}',
      `*Action:* Rolling back ${VERSIONS} with \`{{strategy}}\``,
      `${ETA_SLACK}*Declared by:* {{mention declaredBy}} at {{rollback.declaredAtText}}`,
      FOOTER_SLACK,
    ),
    sns: lines(
      `ROLLBACK DECLARED${DRILL_PLAIN}`,
      `Service: ${SERVICE_PLAIN}`,
      'Issue: {{rollback.reason}}',
      `Action: Rolling back ${VERSIONS} with {{strategy}}`,
      `${ETA_PLAIN}Declared by: {{mention declaredBy}} at {{rollback.declaredAtText}}`,
      FOOTER_PLAIN,
    ),
    snsSubject: `${DRILL_TAG}[ROLLBACK] [{{service}}] Rollback to {{toVersion}} declared`,
    statuspage: `${DRILL_TAG}We have identified the cause of the degraded service on {{service}} and are rolling back to the previous stable version.`,
  },
  'approval-requested': {
    slack: lines(
      `🔐 *APPROVAL REQUESTED*${DRILL_SLACK}: rollback of ${SERVICE_SLACK} ${VERSIONS}`,
      '*Who may approve:* {{tier.approver}}{{#if tier.number}} (tier {{tier.number}}){{/if}}',
      '*Approvals:* {{approvals.count}} of {{approvals.required}}',
      FOOTER_SLACK,
    ),
    sns: lines(
      `APPROVAL REQUESTED${DRILL_PLAIN}: rollback of ${SERVICE_PLAIN} ${VERSIONS}`,
      'Who may approve: {{tier.approver}}{{#if tier.number}} (tier {{tier.number}}){{/if}}',
      'Approvals: {{approvals.count}} of {{approvals.required}}',
      FOOTER_PLAIN,
    ),
    snsSubject: `${DRILL_TAG}[ACTION] [{{service}}] Rollback awaits approval`,
    statuspage: `${DRILL_TAG}A rollback of {{service}} to the previous stable version is being authorized.`,
  },
  escalated: {
    slack: lines(
      `⏫ *ESCALATED*${DRILL_SLACK}: the rollback of ${SERVICE_SLACK} still waits for approval`,
      '*Who may approve now:* {{tier.approver}}{{#if tier.number}} (tier {{tier.number}}){{/if}}{{#if tier.notify}}; {{tier.notify}} informed{{/if}}',
      FOOTER_SLACK,
    ),
    sns: lines(
      `ESCALATED${DRILL_PLAIN}: the rollback of ${SERVICE_PLAIN} still waits for approval`,
      'Who may approve now: {{tier.approver}}{{#if tier.number}} (tier {{tier.number}}){{/if}}{{#if tier.notify}}; {{tier.notify}} informed{{/if}}',
      FOOTER_PLAIN,
    ),
    snsSubject: `${DRILL_TAG}[ESCALATED] [{{service}}] Rollback approval escalated`,
    statuspage: `${DRILL_TAG}We are still working on the degraded service on {{service}}; the rollback awaits authorization.`,
  },
  authorized: {
    slack: lines(
      `🔓 *ROLLBACK AUTHORIZED*${DRILL_SLACK}: ${SERVICE_SLACK} ${VERSIONS}, {{progress.total}} steps.${APPROVERS}`,
      FOOTER_SLACK,
    ),
    sns: lines(
      `ROLLBACK AUTHORIZED${DRILL_PLAIN}: ${SERVICE_PLAIN} ${VERSIONS}, {{progress.total}} steps.${APPROVERS}`,
      FOOTER_PLAIN,
    ),
    snsSubject: `${DRILL_TAG}[ROLLBACK] [{{service}}] Rollback authorized`,
    statuspage: `${DRILL_TAG}The rollback of {{service}} to the previous stable version has started.`,
  },
  'step-started': {
    slack: `▶️ ${STEP_SLACK} started (rollback of ${SERVICE_SLACK}).`,
    sns: `${STEP_PLAIN} started (rollback of ${SERVICE_PLAIN}).`,
    snsSubject: `${DRILL_TAG}[ROLLBACK] [{{service}}] Step {{step.index}} started`,
    statuspage: `${DRILL_TAG}Rollback of {{service}} in progress: step {{step.index}} of {{progress.total}}.`,
  },
  'step-succeeded': {
    slack: `✅ ${STEP_SLACK} succeeded (rollback of ${SERVICE_SLACK}): {{progress.done}} of {{progress.total}} done.`,
    sns: `${STEP_PLAIN} succeeded (rollback of ${SERVICE_PLAIN}): {{progress.done}} of {{progress.total}} done.`,
    snsSubject: `${DRILL_TAG}[ROLLBACK] [{{service}}] Step {{step.index}} succeeded`,
    statuspage: `${DRILL_TAG}Rollback of {{service}} in progress: {{progress.done}} of {{progress.total}} steps completed.`,
  },
  'step-failed': {
    slack: lines(
      `❌ ${STEP_SLACK} failed (attempt {{step.attempt}}, rollback of ${SERVICE_SLACK})${DRILL_SLACK}`,
      '> {{step.error}}',
      FOOTER_SLACK,
    ),
    sns: lines(
      `${STEP_PLAIN} failed (attempt {{step.attempt}}, rollback of ${SERVICE_PLAIN})${DRILL_PLAIN}`,
      'Error: {{step.error}}',
      FOOTER_PLAIN,
    ),
    snsSubject: `${DRILL_TAG}[PROBLEM] [{{service}}] Rollback step {{step.index}} failed`,
    statuspage: `${DRILL_TAG}The rollback of {{service}} has hit a problem; our engineers are working on it.`,
  },
  'validation-passed': {
    slack: `✅ *VALIDATION PASSED*${DRILL_SLACK}: ${SERVICE_SLACK} on {{toVersion}} passes its checks; watching for stability.`,
    sns: `VALIDATION PASSED${DRILL_PLAIN}: ${SERVICE_PLAIN} on {{toVersion}} passes its checks; watching for stability.`,
    snsSubject: `${DRILL_TAG}[MONITORING] [{{service}}] Rollback validated`,
    statuspage: `${DRILL_TAG}A fix has been implemented for {{service}} and we are monitoring the results.`,
  },
  'validation-failed': {
    slack: lines(
      `❌ *VALIDATION FAILED*${DRILL_SLACK}: check *{{check.name}}* {{check.status}} after the rollback of ${SERVICE_SLACK}`,
      '> {{check.detail}}',
      FOOTER_SLACK,
    ),
    sns: lines(
      `VALIDATION FAILED${DRILL_PLAIN}: check "{{check.name}}" {{check.status}} after the rollback of ${SERVICE_PLAIN}`,
      'Detail: {{check.detail}}',
      FOOTER_PLAIN,
    ),
    snsSubject: `${DRILL_TAG}[PROBLEM] [{{service}}] Rollback validation failed`,
    statuspage: `${DRILL_TAG}The rollback of {{service}} did not restore normal service yet; our engineers are working on it.`,
  },
  'periodic-update': {
    slack: lines(
      `ℹ️ *UPDATE*${DRILL_SLACK}: rollback of ${SERVICE_SLACK} ${VERSIONS}`,
      '*Status:* {{rollback.stateDetail}}',
      '*Progress:* {{progress.done}} of {{progress.total}} steps done',
      FOOTER_SLACK,
    ),
    sns: lines(
      `UPDATE${DRILL_PLAIN}: rollback of ${SERVICE_PLAIN} ${VERSIONS}`,
      'Status: {{rollback.stateDetail}}',
      'Progress: {{progress.done}} of {{progress.total}} steps done',
      FOOTER_PLAIN,
    ),
    snsSubject: `${DRILL_TAG}[UPDATE] [{{service}}] Rollback {{rollback.state}}`,
    statuspage: `${DRILL_TAG}We are continuing to work on the degraded service on {{service}}: {{progress.done}} of {{progress.total}} rollback steps completed.`,
  },
  resolved: {
    slack: lines(
      `✅ *ROLLBACK COMPLETE*${DRILL_SLACK}`,
      '*Issue:* {{rollback.reason}}',
      `*Resolution:* Rolled back ${SERVICE_SLACK} to version {{toVersion}}`,
      '*Status:* Monitoring for stability ({{outcome.reason}})',
      '*Next:* Post-incident review scheduled',
      FOOTER_SLACK,
    ),
    sns: lines(
      `ROLLBACK COMPLETE${DRILL_PLAIN}`,
      'Issue: {{rollback.reason}}',
      `Resolution: Rolled back ${SERVICE_PLAIN} to version {{toVersion}}`,
      'Status: Monitoring for stability ({{outcome.reason}})',
      'Next: Post-incident review scheduled',
      FOOTER_PLAIN,
    ),
    snsSubject: `${DRILL_TAG}[RESOLVED] [{{service}}] Rollback Complete`,
    statuspage: `${DRILL_TAG}{{service}} has been rolled back to a previous stable version and is operating normally. We are monitoring for stability.`,
  },
  failed: {
    slack: lines(
      `❌ *ROLLBACK FAILED*${DRILL_SLACK}`,
      '*Issue:* {{rollback.reason}}',
      '*Why:* {{outcome.reason}}',
      `*Status:* ${SERVICE_SLACK} may be partly rolled back ({{progress.done}} of {{progress.total}} steps done)`,
      '*Next:* Escalate: decide on a fix forward or a manual rollback',
      FOOTER_SLACK,
    ),
    sns: lines(
      `ROLLBACK FAILED${DRILL_PLAIN}`,
      'Issue: {{rollback.reason}}',
      'Why: {{outcome.reason}}',
      `Status: ${SERVICE_PLAIN} may be partly rolled back ({{progress.done}} of {{progress.total}} steps done)`,
      'Next: Escalate: decide on a fix forward or a manual rollback',
      FOOTER_PLAIN,
    ),
    snsSubject: `${DRILL_TAG}[FAILED] [{{service}}] Rollback Failed`,
    statuspage: `${DRILL_TAG}The rollback of {{service}} did not complete. Our engineers are working on another way to restore service.`,
  },
  'called-off': {
    slack: lines(
      `⏹️ *ROLLBACK CALLED OFF*${DRILL_SLACK}`,
      '*Issue:* {{rollback.reason}}',
      '*Why:* {{outcome.reason}}',
      `*Status:* nothing was changed on ${SERVICE_SLACK}; no step ran`,
      FOOTER_SLACK,
    ),
    sns: lines(
      `ROLLBACK CALLED OFF${DRILL_PLAIN}`,
      'Issue: {{rollback.reason}}',
      'Why: {{outcome.reason}}',
      `Status: nothing was changed on ${SERVICE_PLAIN}; no step ran`,
      FOOTER_PLAIN,
    ),
    snsSubject: `${DRILL_TAG}[CALLED OFF] [{{service}}] Rollback not started`,
    statuspage: `${DRILL_TAG}The planned rollback of {{service}} was called off. Our engineers continue to work on the issue.`,
  },
};
