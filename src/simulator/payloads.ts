/** The bodies Slack sends to an app, field for field: slash commands, block_actions, view_submission, events. */
import { channelName, type SimulatorConfig } from './config.js';
import type { FoundButton } from './buttons.js';
import type { JsonObject } from './json.js';
import type { SimView } from './workspace.js';

export interface PayloadIdentity {
  config: SimulatorConfig;
  appId: string;
  teamId: string;
  verificationToken: string;
}

function userName(id: PayloadIdentity, user: string): string {
  const known = id.config.users[user];
  if (known === undefined) throw new Error(`Unknown user ${user}: add it to the simulator's users`);
  return known.name;
}

export function slashCommandFields(
  id: PayloadIdentity,
  input: {
    user: string;
    channel: string;
    command: string;
    text: string;
    responseUrl: string;
    triggerId: string;
  },
): Record<string, string> {
  return {
    token: id.verificationToken,
    team_id: id.teamId,
    team_domain: id.config.teamDomain,
    channel_id: input.channel,
    channel_name: channelName(id.config, input.channel),
    user_id: input.user,
    user_name: userName(id, input.user),
    command: input.command,
    text: input.text,
    api_app_id: id.appId,
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId,
  };
}

function userJson(id: PayloadIdentity, user: string): JsonObject {
  const name = userName(id, user);
  return { id: user, username: name, name, team_id: id.teamId };
}

export function blockActionsPayload(
  id: PayloadIdentity,
  input: {
    user: string;
    button: FoundButton;
    responseUrl: string;
    triggerId: string;
    actionTs: string;
    message?: JsonObject;
  },
): JsonObject {
  const { button } = input;
  const container: JsonObject = {
    type: 'message',
    message_ts: button.messageTs,
    channel_id: button.channel,
    is_ephemeral: button.ephemeral,
  };
  if (button.threadTs !== undefined) container.thread_ts = button.threadTs;
  const action: JsonObject = {
    action_id: button.actionId,
    block_id: button.blockId,
    text: { type: 'plain_text', text: button.text, emoji: true },
    type: 'button',
    action_ts: input.actionTs,
  };
  if (button.value !== undefined) action.value = button.value;
  if (button.style !== undefined) action.style = button.style;
  return {
    type: 'block_actions',
    user: userJson(id, input.user),
    api_app_id: id.appId,
    token: id.verificationToken,
    container,
    trigger_id: input.triggerId,
    team: { id: id.teamId, domain: id.config.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: button.channel, name: channelName(id.config, button.channel) },
    ...(input.message === undefined ? {} : { message: input.message }),
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [action],
  };
}

export function viewSubmissionPayload(
  id: PayloadIdentity,
  input: { user: string; view: SimView; values: JsonObject; triggerId: string },
): JsonObject {
  const { view } = input;
  return {
    type: 'view_submission',
    team: { id: id.teamId, domain: id.config.teamDomain },
    user: userJson(id, input.user),
    api_app_id: id.appId,
    token: id.verificationToken,
    trigger_id: input.triggerId,
    view: {
      id: view.id,
      team_id: id.teamId,
      type: view.type,
      blocks: view.blocks,
      private_metadata: view.privateMetadata,
      callback_id: view.callbackId,
      state: { values: input.values },
      hash: view.hash,
      title: view.title,
      clear_on_close: false,
      notify_on_close: false,
      close: view.close,
      submit: view.submit,
      previous_view_id: null,
      root_view_id: view.id,
      app_id: id.appId,
      external_id: view.externalId,
      app_installed_team_id: id.teamId,
      bot_id: id.config.botId,
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/**
 * The `app_home_opened` event Slack sends when a user opens the app's Home (or Messages) tab: the
 * app's DM channel with them, and the home view already published for them, if any.
 */
export function appHomeOpenedEvent(
  id: PayloadIdentity,
  input: { user: string; tab: 'home' | 'messages'; view?: SimView },
): JsonObject {
  userName(id, input.user);
  const { view } = input;
  return {
    type: 'app_home_opened',
    user: input.user,
    channel: `D${input.user.replace(/^[UW]/, '')}`,
    tab: input.tab,
    ...(view === undefined
      ? {}
      : {
          view: {
            id: view.id,
            team_id: id.teamId,
            type: 'home',
            blocks: view.blocks,
            private_metadata: view.privateMetadata,
            callback_id: view.callbackId,
            state: { values: {} },
            hash: view.hash,
            title: view.title,
            close: view.close,
            submit: view.submit,
            previous_view_id: null,
            root_view_id: view.id,
            app_id: id.appId,
            external_id: view.externalId,
            app_installed_team_id: id.teamId,
            bot_id: id.config.botId,
          },
        }),
  };
}

export function eventCallback(
  id: PayloadIdentity,
  event: JsonObject,
  eventId: string,
  eventTime: number,
): JsonObject {
  return {
    token: id.verificationToken,
    team_id: id.teamId,
    api_app_id: id.appId,
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: eventTime,
    authorizations: [
      {
        enterprise_id: null,
        team_id: id.teamId,
        user_id: id.config.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-sim-${eventId}`,
  };
}
