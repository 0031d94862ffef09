/**
 * App Home: when someone opens the bot's Home tab, publish what is going on for them (`views.publish`).
 * A retried event is dropped before it gets here (deliver-once.ts); publishing twice would be harmless.
 */
import type { App } from '@slack/bolt';
import type { RollbackView } from '../../app/rollback-view.js';
import { HOME_RECENT, renderAppHome, type AppHomeInput } from '../blocks/app-home.js';
import type { SlackDependencies } from '../slack-dependencies.js';

/** How far back to look for ended rollbacks among the newest (active ones come first in busy times). */
const RECENT_SCAN = 60;

export function registerAppHome(app: App, deps: SlackDependencies): void {
  app.event('app_home_opened', async ({ event, client }) => {
    // The event also fires for the Messages tab, which this app does not use.
    if (event.tab !== 'home') return;
    try {
      await client.views.publish({ user_id: event.user, view: renderAppHome(await gatherHome(deps)) });
    } catch (error) {
      deps.log.warn({ err: error, user: event.user }, 'could not publish the App Home view');
    }
  });
}

export async function gatherHome(
  deps: Pick<SlackDependencies, 'reads' | 'store' | 'freezes' | 'openIncidents' | 'now'>,
): Promise<AppHomeInput> {
  const [active, incidents, freezes, newest] = await Promise.all([
    deps.reads.list({ activeOnly: true }),
    deps.openIncidents(),
    deps.freezes.list(),
    deps.store.listRollbacks({ limit: RECENT_SCAN }),
  ]);
  const ended = newest.filter((r) => r.final).slice(0, HOME_RECENT);
  const recent = (await Promise.all(ended.map((r) => deps.reads.view(r.id)))).filter(
    (v): v is RollbackView => v !== null,
  );
  return { active, incidents, freezes, recent, now: deps.now() };
}
