/**
 * The base of the bot's typed errors. `code` is namespaced (`config_invalid`, `slack_...`) so replies,
 * logs and metrics can switch on it; `userMessage` is safe to show a human as it is; `retryable` tells
 * a caller whether trying the same thing again can help.
 */
export class RollbackError extends Error {
  readonly code: string;
  readonly userMessage: string;
  readonly retryable: boolean;

  constructor(options: { code: string; userMessage: string; retryable?: boolean; cause?: unknown }) {
    super(options.userMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.userMessage = options.userMessage;
    this.retryable = options.retryable ?? false;
  }
}

/** The environment or the manifests are wrong: one line per problem, each saying how to fix it. */
export class ConfigError extends RollbackError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], cause?: unknown) {
    super({ code: 'config_invalid', userMessage: problems.join('\n'), retryable: false, cause });
    this.problems = problems;
  }
}

/**
 * The state store (Redis) does not answer: nothing was read or written. People are told so and that
 * nothing changed; the workers try again, and the rollback carries on once it is back.
 */
export class StoreUnavailableError extends RollbackError {
  constructor(cause?: unknown) {
    super({
      code: 'store_unavailable',
      userMessage:
        "The bot's state store (Redis) is unavailable right now, so nothing was changed. Try again in a minute; rollbacks already running carry on by themselves once it is back.",
      retryable: true,
      cause,
    });
  }
}

/**
 * Who holds a role could not be read (Slack's user groups erred or did not answer in time) and no
 * answer recent enough may stand in. Nothing may be decided on it: the action is refused, unchanged.
 */
export class RoleLookupError extends RollbackError {
  constructor(cause?: unknown) {
    super({
      code: 'role_unavailable',
      userMessage:
        "Cannot check your role now (Slack's user groups did not answer) — nothing was changed, try again in a minute.",
      retryable: true,
      cause,
    });
  }
}
