/**
 * The declaration modal's submission. The declaration is made before the ack (it takes
 * milliseconds) so that a refusal (an active rollback, an unknown strategy) shows on the form
 * itself, where the person can fix it.
 */
import type { App } from '@slack/bolt';
import { DECLARE_CALLBACK_ID, DECLARE_FIELDS, parseDeclareSubmission } from '../blocks/declare-modal.js';
import { explainFailure } from '../reply.js';
import type { SlackDependencies } from '../slack-dependencies.js';

export function registerDeclareView(app: App, deps: SlackDependencies): void {
  app.view(DECLARE_CALLBACK_ID, async ({ ack, view, body }) => {
    const parsed = parseDeclareSubmission(view.state.values, deps.service.plans());
    if (!parsed.ok) {
      await ack({ response_action: 'errors', errors: parsed.errors });
      return;
    }
    try {
      const { values } = parsed;
      const outcome = await deps.service.declare({
        service: values.service,
        environment: values.environment,
        strategy: values.strategy ?? undefined,
        toVersion: values.toVersion ?? undefined,
        reason: values.reason,
        by: body.user.id,
      });
      if (!outcome.ok) {
        const field =
          outcome.code === 'unknown_target' || outcome.code === 'invalid_version'
            ? DECLARE_FIELDS.toVersion.block
            : DECLARE_FIELDS.service.block;
        await ack({ response_action: 'errors', errors: { [field]: outcome.message.slice(0, 150) } });
        return;
      }
      await ack();
    } catch (error) {
      const { message, reference } = explainFailure(deps.log, error, {
        view: DECLARE_CALLBACK_ID,
        user: body.user.id,
      });
      await ack({
        response_action: 'errors',
        errors: { [DECLARE_FIELDS.service.block]: `${message} (ref ${reference})`.slice(0, 150) },
      });
    }
  });
}
