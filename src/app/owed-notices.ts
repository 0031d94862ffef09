/**
 * A rollback's notices owed to its thread: each failed for a while (Slack away) or was held behind
 * one that did, and its effect will be delivered again. Kept in the store, not in the process: with
 * two replicas the effects of one rollback are taken by either, and the replica retrying a notice
 * is not the one that saw it fail; the thread keeps its order only if every replica sees what is
 * owed. One document per rollback, written with its version (two replicas never lose each other's
 * entry); read once per notice.
 */
import { changeDoc } from '../store/change-doc.js';
import { COLLECTIONS } from '../store/collections.js';
import type { Docs } from '../store/store.js';

/** Where a notice stands among its rollback's: its version, then its index in that commit. */
export type NoticeOrder = readonly [number, number];

interface Owed {
  /** By effect id: the notice's order, and when a replica last tried it. */
  notices: Record<string, { order: NoticeOrder; since: number }>;
}

export const noticeBefore = (a: NoticeOrder, b: NoticeOrder): boolean =>
  a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

export class OwedNotices {
  constructor(
    private readonly options: {
      store: Pick<Docs, 'getDoc' | 'putDoc'>;
      /** An entry no replica has tried for this long is dropped (its effect was given up). */
      lapseMs: number;
    },
  ) {}

  /** The rollback's notices owed now, by effect id (entries untried for `lapseMs` left out). */
  async of(rollbackId: string, now: number): Promise<Map<string, NoticeOrder>> {
    const owed = await this.options.store.getDoc<Owed>(COLLECTIONS.slackNoticesOwed, rollbackId);
    return new Map(
      Object.entries(owed?.value.notices ?? {})
        .filter(([, notice]) => now - notice.since < this.options.lapseMs)
        .map(([id, notice]) => [id, notice.order]),
    );
  }

  /** Notes the notice as owed (again: its `since` moves). */
  add(rollbackId: string, effectId: string, order: NoticeOrder, now: number): Promise<void> {
    return this.change(rollbackId, (notices) => {
      notices[effectId] = { order, since: now };
      return true;
    });
  }

  /** The notice reached the thread. */
  settle(rollbackId: string, effectId: string): Promise<void> {
    return this.change(rollbackId, (notices) => {
      if (!(effectId in notices)) return false;
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- keyed by effect id by design
      delete notices[effectId];
      return true;
    });
  }

  private async change(rollbackId: string, edit: (notices: Owed['notices']) => boolean): Promise<void> {
    await changeDoc<Owed>(this.options.store, COLLECTIONS.slackNoticesOwed, rollbackId, (current) => {
      const notices = { ...current?.notices };
      return edit(notices) ? { notices } : null;
    });
  }
}
