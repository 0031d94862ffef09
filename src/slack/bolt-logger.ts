/** Bolt and the Web API client log through our pino logger, so their lines are JSON and redacted too. */
import { LogLevel, type Logger as SlackLogger } from '@slack/logger';
import type { Logger } from 'pino';

const text = (parts: unknown[]): string =>
  parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');

export function boltLogger(log: Logger): SlackLogger {
  const child = log.child({ component: 'slack' });
  let level: LogLevel = LogLevel.INFO;
  return {
    debug: (...parts: unknown[]) => {
      child.debug(text(parts));
    },
    info: (...parts: unknown[]) => {
      child.info(text(parts));
    },
    warn: (...parts: unknown[]) => {
      child.warn(text(parts));
    },
    error: (...parts: unknown[]) => {
      child.error(text(parts));
    },
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
