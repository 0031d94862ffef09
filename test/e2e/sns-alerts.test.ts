/**
 * CloudWatch alarms through SNS into incident threads: a throwaway CA (openssl) signs an SNS-like
 * certificate served on 127.0.0.1 (allowed by configuration, as the issue asks), messages are signed
 * the way SNS signs them, and the whole bot answers: subscription confirmed, alarm -> thread,
 * retry with the same MessageId -> nothing new, OK -> resolved; forgeries refused.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL, eventually, startBotHarness, type BotHarness } from '../support/bot-harness.js';
import { startSnsSigner, type SnsSigner } from '../support/sns-signer.js';

const TOPIC = 'arn:aws:sns:eu-west-3:123456789012:rollback-bot-alerts';
let signer: SnsSigner;
let harness: BotHarness | undefined;
const sign = (message: Record<string, string>) => signer.sign(message);

beforeAll(async () => {
  signer = await startSnsSigner();
});
afterAll(async () => {
  await signer.close();
});
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

function alarm(id: string, state: 'ALARM' | 'OK', at: number): Record<string, string> {
  return {
    Type: 'Notification',
    MessageId: id,
    TopicArn: TOPIC,
    Subject: `${state}: "checkout-5xx-rate"`,
    Timestamp: new Date(at).toISOString(),
    Message: JSON.stringify({
      AlarmName: 'checkout-5xx-rate',
      AlarmDescription: 'Checkout 5xx ratio above 5 %',
      AWSAccountId: '123456789012',
      NewStateValue: state,
      NewStateReason: 'Threshold Crossed',
      StateChangeTime: new Date(at).toISOString().replace('Z', '+0000'),
      Region: 'EU (Paris)',
      AlarmArn: 'arn:aws:cloudwatch:eu-west-3:123456789012:alarm:checkout-5xx-rate',
      OldStateValue: state === 'ALARM' ? 'OK' : 'ALARM',
      Trigger: {
        MetricName: 'HTTPCode_Target_5XX_Count',
        Namespace: 'AWS/ApplicationELB',
        Dimensions: [
          { name: 'Service', value: 'checkout' },
          { name: 'Environment', value: 'production' },
        ],
      },
    }),
  };
}

async function post(
  h: BotHarness,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${h.port}/alerts/sns`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('SNS receiver (own CA, local certificate URL)', () => {
  it('confirms the subscription, opens the thread on ALARM, ignores the retry, resolves on OK', async () => {
    const h = (harness = await startBotHarness({
      planFile: 'test/fixtures/e2e/alert-plans.yaml',
      bot: {
        snsReceiver: signer.receiverOptions([TOPIC]),
      },
    }));
    const confirmation = sign({
      Type: 'SubscriptionConfirmation',
      MessageId: 'confirm-1',
      Token: '2336412f',
      TopicArn: TOPIC,
      Message: 'You have chosen to subscribe to the topic.',
      SubscribeURL: `${signer.peer.url}/confirm?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=2336412f`,
      Timestamp: new Date(h.clock.now).toISOString(),
    });
    const confirmed = await post(h, confirmation);
    expect(confirmed).toEqual({ status: 200, body: { confirmed: true, subscriptionArn: `${TOPIC}:sub-1` } });
    expect(signer.peer.requests.filter((r) => r.path.startsWith('/confirm'))).toHaveLength(1);

    const startsAt = h.clock.now - 120_000;
    const firing = sign(alarm('msg-1', 'ALARM', startsAt));
    expect(await post(h, firing)).toMatchObject({ status: 200, body: { accepted: 1, duplicate: false } });
    const parent = await eventually(
      () => h.sim.messages(CHANNEL).find((m) => m.text.startsWith('Incident: checkout (production)')),
      Boolean,
    );
    expect(JSON.stringify(parent!.blocks)).toContain('checkout-5xx-rate');
    // SNS retries keep the MessageId.
    expect(await post(h, firing)).toMatchObject({ status: 200, body: { duplicate: true } });

    // Forgeries: a changed Message, and a topic that is not allowed.
    const tampered = { ...firing, Message: firing.Message!.replace('ALARM', 'OK') };
    expect((await post(h, tampered)).status).toBe(403);
    const otherTopic = sign({ ...alarm('msg-9', 'ALARM', startsAt), TopicArn: `${TOPIC}-other` });
    const refused = await post(h, otherTopic);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({
      code: 'forbidden',
      message: expect.stringMatching(/topic/i) as string,
    });
    expect((await post(h, { Type: 'Notification' })).status).toBe(400);
    // A genuine message replayed hours later is refused.
    const replayed = await post(h, sign(alarm('msg-old', 'ALARM', h.clock.now - 3 * 3_600_000)));
    expect(replayed.status).toBe(403);
    expect(replayed.body.error).toEqual({
      code: 'replay',
      message: expect.stringMatching(/replay/) as string,
    });

    expect((await post(h, sign(alarm('msg-2', 'OK', h.clock.now)))).status).toBe(200);
    await eventually(
      () => h.sim.messages(CHANNEL).find((m) => m.ts === parent!.ts)?.text ?? '',
      (text) => text.startsWith('Resolved: checkout'),
    );
  }, 60_000);
});
