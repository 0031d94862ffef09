/** `manifests/slack-app.yaml`, the manifest pasted at api.slack.com/apps: it parses and matches the bot. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateManifestTexts } from '../../../src/config/manifests.js';
import { defaultRegistry } from '../../../src/executors/default-registry.js';

const FILE = join(import.meta.dirname, '../../../manifests/slack-app.yaml');
const text = readFileSync(FILE, 'utf8');

interface SlackAppManifest {
  display_information: { name: string; description: string };
  features: {
    bot_user: { display_name: string };
    slash_commands: Array<{
      command: string;
      url: string;
      description: string;
      usage_hint: string;
      should_escape: boolean;
    }>;
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url: string };
    socket_mode_enabled: boolean;
  };
}

const REQUEST_URL = 'https://YOUR-BOT-HOST/slack/events';

describe('the Slack app manifest', () => {
  const manifest = parse(text) as SlackAppManifest;

  it('declares /rollback and sends commands, clicks and events to the bot’s one request URL', () => {
    expect(manifest.display_information.name).toBe('rollback-bot');
    expect(manifest.features.bot_user.display_name).toBe('rollback-bot');
    expect(manifest.features.slash_commands).toHaveLength(1);
    const [command] = manifest.features.slash_commands;
    expect(command).toMatchObject({ command: '/rollback', url: REQUEST_URL, should_escape: false });
    expect(command?.usage_hint).toMatch(
      /^\[service\] \[--env E\] \[--to VERSION\] \| help \| list \| status \[ID\]/,
    );
    expect(command?.description.length).toBeGreaterThan(0);
    expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: REQUEST_URL });
    expect(manifest.settings.event_subscriptions.request_url).toBe(REQUEST_URL);
    expect(manifest.settings.event_subscriptions.bot_events).toContain('app_home_opened');
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });

  it('asks for the scopes of the Web API methods the bot calls', () => {
    expect(manifest.oauth_config.scopes.bot).toEqual(
      expect.arrayContaining([
        'commands',
        'chat:write',
        'chat:write.public',
        'usergroups:read',
        'users:read',
        'channels:read',
      ]),
    );
  });

  it('is skipped with a warning, not an error, when manifests/ is validated', () => {
    const set = validateManifestTexts([{ file: 'manifests/slack-app.yaml', text }], defaultRegistry(), {
      skipForeignFiles: true,
    });
    expect(set.problems.map((p) => [p.severity, p.message])).toEqual([
      ['warning', expect.stringContaining('not a rollback-bot manifest')],
    ]);
  });
});
