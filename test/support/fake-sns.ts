/**
 * A local SNS topic endpoint speaking the Query protocol the SDK uses for SNS (form-encoded
 * `Action=Publish`, XML answers), reached through `AWS_ENDPOINT_URL_SNS`. It keeps every publish it
 * accepted, decoded, and can be taken down for as long as a test wants: every request answered with
 * SNS's `ServiceUnavailable` (503), or connections refused.
 */
import type { ServerResponse } from 'node:http';
import { startPeer, type HttpPeer } from './http-peer.js';

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

export interface FakeSns {
  url: string;
  /** Publishes answered 200, in arrival order: their decoded form parameters. */
  published: Array<Record<string, string>>;
  /** Every request answered, by status (refused connections are not requests). */
  answered: number[];
  down(mode: { status: number } | 'refuse' | null): Promise<void>;
  close(): Promise<void>;
}

/** The value of the message attribute `name` of a decoded Publish. */
export function snsAttribute(params: Record<string, string>, name: string): string | undefined {
  const entry = Object.entries(params).find(([k, v]) => k.endsWith('.Name') && v === name)?.[0];
  return entry === undefined ? undefined : params[entry.replace('.Name', '.Value.StringValue')];
}

export async function startFakeSns(): Promise<FakeSns> {
  const published: Array<Record<string, string>> = [];
  const answered: number[] = [];
  let outage: { status: number } | 'refuse' | null = null;
  const peer: HttpPeer = await startPeer((request, res) => {
    if (outage !== null && outage !== 'refuse') {
      answered.push(outage.status);
      unavailable(res, outage.status);
      return;
    }
    const params = Object.fromEntries(new URLSearchParams(request.body));
    published.push(params);
    answered.push(200);
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<PublishResponse xmlns="${XMLNS}"><PublishResult><MessageId>m-${published.length}</MessageId></PublishResult>` +
        `<ResponseMetadata><RequestId>r-${published.length}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  });
  return {
    url: peer.url,
    published,
    answered,
    async down(mode) {
      if (mode === 'refuse' && outage !== 'refuse') await peer.refuse();
      if (mode !== 'refuse' && outage === 'refuse') await peer.accept();
      outage = mode;
    },
    close: () => peer.close(),
  };
}

function unavailable(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-type': 'text/xml' });
  res.end(
    `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>` +
      `<Message>Service is unavailable</Message></Error><RequestId>down</RequestId></ErrorResponse>`,
  );
}
