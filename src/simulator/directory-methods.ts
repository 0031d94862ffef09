/** auth.test, users.info, conversations.info, usergroups.users.list: what the bot looks up. */
import { channelName } from './config.js';
import { str } from './json.js';
import { fail, type MethodHandler } from './method-kit.js';

const authTest: MethodHandler = (_args, { config }) => ({
  ok: true,
  url: `https://${config.teamDomain}.slack.com/`,
  team: config.teamDomain,
  user: config.users[config.botUserId]?.name ?? 'rollback-bot',
  team_id: config.teamId,
  user_id: config.botUserId,
  bot_id: config.botId,
  is_enterprise_install: false,
});

const usersInfo: MethodHandler = (args, { config }) => {
  const id = str(args.user) ?? '';
  const user = config.users[id];
  if (user === undefined) return fail('user_not_found');
  const realName = user.real_name ?? user.name;
  return {
    ok: true,
    user: {
      id,
      team_id: config.teamId,
      name: user.name,
      real_name: realName,
      deleted: false,
      is_bot: id === config.botUserId,
      tz: 'UTC',
      profile: { real_name: realName, display_name: user.name },
    },
  };
};

const conversationsInfo: MethodHandler = (args, { config }) => {
  const id = str(args.channel) ?? '';
  if (!config.channels.includes(id)) return fail('channel_not_found');
  return {
    ok: true,
    channel: {
      id,
      name: channelName(config, id),
      is_channel: true,
      is_private: false,
      is_archived: false,
      is_member: true,
      context_team_id: config.teamId,
    },
  };
};

const usergroupUsers: MethodHandler = (args, { config }) => {
  const users = config.usergroups[str(args.usergroup) ?? ''];
  return users === undefined ? fail('no_such_subteam') : { ok: true, users: [...users] };
};

export const directoryMethods: Record<string, MethodHandler> = {
  'auth.test': authTest,
  'users.info': usersInfo,
  'conversations.info': conversationsInfo,
  'usergroups.users.list': usergroupUsers,
};
