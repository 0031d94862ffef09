/** The options a simulator starts with, and the defaults it fills in. */
export interface SimulatorUser {
  name: string;
  real_name?: string;
}

export interface SlackSimulatorOptions {
  botToken: string;
  botUserId: string;
  teamId: string;
  /** Channel ids the bot can post to; any other channel is `channel_not_found`. */
  channels: string[];
  users: Record<string, SimulatorUser>;
  /** Usergroup id -> member user ids, for `usergroups.users.list`. */
  usergroups: Record<string, string[]>;
  /** Channel id -> name (default: the id in lower case). */
  channelNames?: Record<string, string>;
  botId?: string;
  appId?: string;
  teamDomain?: string;
  /** The clock (epoch ms) for ts values, `at` fields and trigger expiry. */
  now?: () => number;
}

export type SimulatorConfig = Required<SlackSimulatorOptions>;

export function resolveConfig(options: SlackSimulatorOptions): SimulatorConfig {
  return {
    channelNames: {},
    botId: 'B0SIMBOT01',
    appId: 'A0SIMAPP01',
    teamDomain: 'sim-workspace',
    now: Date.now,
    ...options,
  };
}

export function channelName(config: SimulatorConfig, channel: string): string {
  return config.channelNames[channel] ?? channel.toLowerCase();
}
