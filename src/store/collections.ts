/**
 * Every document collection the bot keeps (`Docs`: `P:docs:<collection>` in Redis), in one place: an
 * operator looking at Redis, or a developer adding a collection, finds here who writes each one, what
 * it holds and how long it stays. docs/operations/redis.md carries the same table; a unit test keeps
 * the two equal. Code names a collection only through `COLLECTIONS`, never by a string literal.
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
  slackCards: 'slack-cards',
  slackCardClaims: 'slack-cards-claims',
  slackNotices: 'slack-notices',
  slackPostMortems: 'slack-post-mortems',
  stakeholderPosts: 'stakeholder-posts',
  statuspageIncidents: 'statuspage-incidents',
  rollbackOutcomes: 'rollback-outcomes',
} as const;

export type Collection = (typeof COLLECTIONS)[keyof typeof COLLECTIONS];

export interface CollectionInfo {
  /** The module that writes it (the only one that should). */
  owner: string;
  holds: string;
  /** Documents never expire (the store has no TTL on documents): this says what removes them, if anything. */
  retention: string;
}

/** Nothing expires yet: these grow by one small document per rollback, effect or incident. */
const FOREVER_PER_ROLLBACK = 'kept (one per rollback)';

/** Keyed by collection name, so a collection added to `COLLECTIONS` without a description does not compile. */
export const COLLECTION_INFO: Readonly<Record<Collection, CollectionInfo>> = {
  drills: {
    owner: 'src/app/drill-records.ts',
    holds: 'the last resolved drill per service and strategy',
    retention: 'kept; overwritten by the next drill',
  },
  freezes: {
    owner: 'src/app/freeze-service.ts',
    holds: 'manual freezes per service and environment',
    retention: 'until `/rollback freeze off`',
  },
  'bad-versions': {
    owner: 'src/app/freeze-service.ts',
    holds: 'versions a resolved rollback moved away from (CI must not redeploy them)',
    retention: 'until a human clears them with `/rollback freeze off`',
  },
  incidents: {
    owner: 'src/app/incident-records.ts',
    holds: 'incidents (alerts grouped per service and environment, their rollbacks)',
    retention: 'kept (the history)',
  },
  'incident-current': {
    owner: 'src/app/incident-records.ts',
    holds: 'service and environment -> id of its open (or last) incident',
    retention: 'kept; one per service and environment, overwritten',
  },
  'incident-threads': {
    owner: 'src/slack/incident-thread.ts',
    holds: "address (channel, ts) of each incident's Slack thread",
    retention: 'kept (one per incident)',
  },
  'incident-threads-claims': {
    owner: 'src/slack/card-publisher.ts',
    holds: "once-records: one replica posts an incident's thread",
    retention: 'kept (one per incident)',
  },
  'incident-notices': {
    owner: 'src/slack/incident-thread.ts',
    holds: "once-records of the one-off replies in an incident's thread",
    retention: 'kept (a few per incident)',
  },
  'slack-cards': {
    owner: 'src/slack/card-publisher.ts',
    holds: "address (channel, ts) of each rollback's status card",
    retention: FOREVER_PER_ROLLBACK,
  },
  'slack-cards-claims': {
    owner: 'src/slack/card-publisher.ts',
    holds: "once-records: one replica posts a rollback's card",
    retention: FOREVER_PER_ROLLBACK,
  },
  'slack-notices': {
    owner: 'src/slack/notify-handler.ts',
    holds: 'once-records of the notices posted in rollback threads, by effect id',
    retention: 'kept (one per notify effect)',
  },
  'slack-post-mortems': {
    owner: 'src/slack/notify-handler.ts',
    holds: 'once-records of the post-mortem drafts posted',
    retention: FOREVER_PER_ROLLBACK,
  },
  'stakeholder-posts': {
    owner: 'src/notifiers/stakeholders.ts',
    holds: 'once-records of stakeholder channel posts and SNS publishes, by effect id and target',
    retention: 'kept (one per notify effect and target)',
  },
  'statuspage-incidents': {
    owner: 'src/notifiers/targets/statuspage/incidents.ts',
    holds: "each rollback's Statuspage incident: id, status, phase, effects applied",
    retention: 'kept (one per rollback with a status page)',
  },
  'rollback-outcomes': {
    owner: 'src/app/freeze-effect.ts',
    holds: "once-records: a resolved rollback's deployment and bad version recorded",
    retention: 'kept (one per resolved rollback)',
  },
};
