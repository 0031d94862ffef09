/**
 * Every document collection the bot keeps (`Docs`), in one place: an operator looking at Redis, or a
 * developer adding a collection, finds here who writes each one, what it holds and how long it stays.
 * docs/operations/redis.md carries the same table; a unit test keeps the two equal. Code names a
 * collection only through `COLLECTIONS`, never by a string literal.
 *
 * A collection with a `ttlMs` expires each document that long after its last write: the store applies
 * it (Redis: one key per document with `PX`, `P:doc:<collection>:<key>`; without a TTL the whole
 * collection is one hash, `P:docs:<collection>`). Only once-records have one, and each TTL is longer
 * than the time in which the action they remember can be asked for again: within it, a done action is
 * never done twice.
 */

export const COLLECTIONS = {
  drills: 'drills',
  freezes: 'freezes',
  badVersions: 'bad-versions',
  incidents: 'incidents',
  incidentCurrent: 'incident-current',
  incidentThreads: 'incident-threads',
  incidentThreadClaims: 'incident-threads-claims',
  incidentNotices: 'incident-notices',
  incidentThreadsBehind: 'incident-threads-behind',
  slackCards: 'slack-cards',
  slackCardClaims: 'slack-cards-claims',
  slackNotices: 'slack-notices',
  slackNoticesOwed: 'slack-notices-owed',
  slackPostMortems: 'slack-post-mortems',
  stakeholderPosts: 'stakeholder-posts',
  stakeholderOutbox: 'stakeholder-outbox',
  statuspageIncidents: 'statuspage-incidents',
  rollbackOutcomes: 'rollback-outcomes',
} as const;

export type Collection = (typeof COLLECTIONS)[keyof typeof COLLECTIONS];

export interface CollectionInfo {
  /** The module that writes it (the only one that should). */
  owner: string;
  holds: string;
  /**
   * Each document expires this long after its last write (every write starts the TTL again); null:
   * never, the documents are history or state the bot reads for as long as it runs.
   */
  ttlMs: number | null;
  /** Why the TTL is long enough (or why there is none, and what removes the documents, if anything). */
  retention: string;
}

const DAY_MS = 24 * 60 * 60_000;

/**
 * Once-records keyed by an effect, or by a rollback and written by its one final effect: the action
 * is asked for again only when the effect is delivered again, which stops once it is acknowledged
 * (seconds, or a few reclaims after a crash). 30 days outlasts any outage with effects left waiting in
 * the outbox, and keeps a month of records to answer "was this sent?".
 */
const EFFECT_ONCE_TTL_MS = 30 * DAY_MS;
const EFFECT_ONCE_WHY =
  'asked for again only when its effect is redelivered, which stops once it is acknowledged (seconds)';

/**
 * Claims of posting a message whose address is kept in another collection: read only while that
 * address is missing, i.e. the seconds between the claim and the address being written.
 */
const POST_CLAIM_TTL_MS = DAY_MS;
const POST_CLAIM_WHY =
  'read only while the address is missing: seconds after the claim (the address is kept)';

/** Keyed by collection name, so a collection added to `COLLECTIONS` without a description does not compile. */
export const COLLECTION_INFO: Readonly<Record<Collection, CollectionInfo>> = {
  drills: {
    owner: 'src/app/drill-records.ts',
    holds: 'the last resolved drill per service and strategy',
    ttlMs: null,
    retention: 'kept; overwritten by the next drill',
  },
  freezes: {
    owner: 'src/app/freeze-service.ts',
    holds: 'manual freezes per service and environment',
    ttlMs: null,
    retention: 'until `/rollback freeze off`',
  },
  'bad-versions': {
    owner: 'src/app/freeze-service.ts',
    holds: 'versions a resolved rollback moved away from (CI must not redeploy them)',
    ttlMs: null,
    retention: 'until a human clears them with `/rollback freeze off`',
  },
  incidents: {
    owner: 'src/app/incident-records.ts',
    holds: 'incidents (alerts grouped per service and environment, their rollbacks)',
    ttlMs: null,
    retention: 'kept (the history)',
  },
  'incident-current': {
    owner: 'src/app/incident-records.ts',
    holds: 'service and environment -> id of its open (or last) incident',
    ttlMs: null,
    retention: 'kept; one per service and environment, overwritten',
  },
  'incident-threads': {
    owner: 'src/slack/incident-thread.ts',
    holds: "address (channel, ts) of each incident's Slack thread",
    ttlMs: null,
    retention: 'kept (one per incident): the claims expire because the address stays',
  },
  'incident-threads-claims': {
    owner: 'src/slack/card-publisher.ts',
    holds: "once-records: one replica posts an incident's thread",
    ttlMs: POST_CLAIM_TTL_MS,
    retention: POST_CLAIM_WHY,
  },
  'incident-notices': {
    owner: 'src/slack/incident-thread.ts',
    holds: "once-records of the one-off replies in an incident's thread",
    ttlMs: 90 * DAY_MS,
    retention:
      'asked for again at every change of the incident while it is open; one still open and changing ' +
      'after 90 days may see a one-off reply again',
  },
  'incident-threads-behind': {
    owner: 'src/slack/incident-thread.ts',
    holds: 'incidents whose thread could not be brought up to date (Slack away), since when',
    ttlMs: null,
    retention: 'removed once a sync gets through, or given up (logged) after 24 h',
  },
  'slack-cards': {
    owner: 'src/slack/card-publisher.ts',
    holds: "address (channel, ts) of each rollback's status card",
    ttlMs: null,
    retention: 'kept (one per rollback): the claims expire because the address stays',
  },
  'slack-cards-claims': {
    owner: 'src/slack/card-publisher.ts',
    holds: "once-records: one replica posts a rollback's card",
    ttlMs: POST_CLAIM_TTL_MS,
    retention: POST_CLAIM_WHY,
  },
  'slack-notices': {
    owner: 'src/slack/notify-handler.ts',
    holds: 'once-records of the notices posted in rollback threads, by effect id',
    ttlMs: EFFECT_ONCE_TTL_MS,
    retention: EFFECT_ONCE_WHY,
  },
  'slack-notices-owed': {
    owner: 'src/app/owed-notices.ts',
    holds: 'per rollback, its notices owed to its thread (Slack was away): later ones wait for them',
    ttlMs: null,
    retention: 'kept (one per rollback whose notices Slack failed), emptied as they get through',
  },
  'slack-post-mortems': {
    owner: 'src/slack/notify-handler.ts',
    holds: 'once-records of the post-mortem drafts posted',
    ttlMs: EFFECT_ONCE_TTL_MS,
    retention: 'asked for again only when the final notice effect is redelivered, until acknowledged',
  },
  'stakeholder-posts': {
    owner: 'src/notifiers/stakeholder-outbox.ts',
    holds: 'once-records of stakeholder channel posts and SNS publishes, by effect id and target',
    ttlMs: EFFECT_ONCE_TTL_MS,
    retention:
      'asked for again only while its message waits in the stakeholder outbox: at most 24 h, then given up',
  },
  'stakeholder-outbox': {
    owner: 'src/notifiers/stakeholder-outbox.ts',
    holds: 'stakeholder messages waiting for their target, one document per lane (API key, topic, channel)',
    ttlMs: null,
    retention:
      'kept: one per lane, emptied as its messages are sent (a message waiting over 24 h is given up)',
  },
  'statuspage-incidents': {
    owner: 'src/notifiers/targets/statuspage/incidents.ts',
    holds: "each rollback's Statuspage incident: id, status, phase, effects applied",
    ttlMs: EFFECT_ONCE_TTL_MS,
    retention:
      'renewed by each status page update of the rollback (authorised to its end); read only until ' +
      'its last update leaves the stakeholder outbox (at most 24 h later)',
  },
  'rollback-outcomes': {
    owner: 'src/app/freeze-effect.ts',
    holds: "once-records: a resolved rollback's deployment and bad version recorded",
    ttlMs: EFFECT_ONCE_TTL_MS,
    retention:
      'asked for again only when the final freeze effect is redelivered, until acknowledged (again ' +
      'later would mark bad a version a human cleared)',
  },
};

/** The TTL the store applies to `collection`'s documents; null for none (and for a name not listed). */
export function ttlOf(collection: string): number | null {
  return Object.hasOwn(COLLECTION_INFO, collection) ? COLLECTION_INFO[collection as Collection].ttlMs : null;
}

/**
 * `listDocs` is for collections without a TTL: one with a TTL keeps each document under its own key
 * (Redis), so listing it would mean scanning the whole keyspace; nothing needs to.
 */
export function assertListable(collection: string): void {
  if (ttlOf(collection) !== null) {
    throw new Error(
      `the documents of "${collection}" expire one by one (TTL): the collection cannot be listed`,
    );
  }
}
