/**
 * A local Elastic Load Balancing v2 API speaking the query protocol the SDK sends: `POST /` with a
 * form-encoded body (`Action=ModifyListener&Version=2015-12-01&DefaultActions.member.1.
 * ForwardConfig.TargetGroups.member.2.Weight=100...`), SigV4 for `elasticloadbalancing` checked
 * against the test's keys, XML answers, errors as `<ErrorResponse><Error><Code>ListenerNotFound`.
 * It models listeners with default actions (forward with weighted target groups, and any other
 * action kept as given); a test shifts a listener "from elsewhere". Reach it with
 * AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sigV4Problem } from './aws-sigv4.js';
import { KeyRing } from './fake-aws-json.js';

export interface ElbAction {
  Type: string;
  Order?: number;
  TargetGroupArn?: string;
  TargetGroups?: Array<{ TargetGroupArn: string; Weight: number }>;
  Stickiness?: boolean;
}

export interface ElbRequest {
  action: string;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  role: string | undefined;
}

export interface FakeElb {
  url: string;
  requests: ElbRequest[];
  calls(action: string): Record<string, string>[];
  addListener(arn: string, actions: ElbAction[]): void;
  actionsOf(arn: string): ElbAction[];
  /** Requests for `action` are never answered from now on. */
  stall(action: string): void;
  refuse(action: string, code: string, message: string, status?: number): void;
  close(): Promise<void>;
}

const xml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const NS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

function actionXml(action: ElbAction): string {
  const groups = action.TargetGroups;
  const forward =
    groups === undefined
      ? ''
      : `<ForwardConfig><TargetGroups>${groups.map((g) => `<member><TargetGroupArn>${xml(g.TargetGroupArn)}</TargetGroupArn><Weight>${g.Weight}</Weight></member>`).join('')}</TargetGroups><TargetGroupStickinessConfig><Enabled>${action.Stickiness === true}</Enabled></TargetGroupStickinessConfig></ForwardConfig>`;
  return `<member><Type>${action.Type}</Type>${action.Order === undefined ? '' : `<Order>${action.Order}</Order>`}${action.TargetGroupArn === undefined ? '' : `<TargetGroupArn>${xml(action.TargetGroupArn)}</TargetGroupArn>`}${forward}</member>`;
}

/** `DefaultActions.member.N...` form fields back into actions. */
function actionsFrom(params: Record<string, string>): ElbAction[] {
  const actions: ElbAction[] = [];
  for (let n = 1; params[`DefaultActions.member.${n}.Type`] !== undefined; n += 1) {
    const at = `DefaultActions.member.${n}.`;
    const groups: Array<{ TargetGroupArn: string; Weight: number }> = [];
    for (
      let m = 1;
      params[`${at}ForwardConfig.TargetGroups.member.${m}.TargetGroupArn`] !== undefined;
      m += 1
    ) {
      const g = `${at}ForwardConfig.TargetGroups.member.${m}.`;
      groups.push({
        TargetGroupArn: params[`${g}TargetGroupArn`]!,
        Weight: Number(params[`${g}Weight`] ?? 1),
      });
    }
    actions.push({
      Type: params[`${at}Type`]!,
      ...(params[`${at}Order`] === undefined ? {} : { Order: Number(params[`${at}Order`]) }),
      ...(params[`${at}TargetGroupArn`] === undefined
        ? {}
        : { TargetGroupArn: params[`${at}TargetGroupArn`] }),
      ...(groups.length === 0 ? {} : { TargetGroups: groups }),
      ...(params[`${at}ForwardConfig.TargetGroupStickinessConfig.Enabled`] === 'true'
        ? { Stickiness: true }
        : {}),
    });
  }
  return actions;
}

export async function startFakeElb(options: { keys?: KeyRing; region?: string } = {}): Promise<FakeElb> {
  const keys = options.keys ?? new KeyRing();
  const region = options.region ?? 'eu-west-1';
  const listeners = new Map<string, ElbAction[]>();
  const requests: ElbRequest[] = [];
  const stalled = new Set<string>();
  const refusals = new Map<string, { code: string; message: string; status: number }>();

  const reply = (res: ServerResponse, status: number, body: string): true => {
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
    res.end(body);
    return true;
  };
  const error = (res: ServerResponse, status: number, code: string, message: string): true =>
    reply(
      res,
      status,
      `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
    );
  const listenerXml = (arn: string) =>
    `<member><ListenerArn>${xml(arn)}</ListenerArn><Port>443</Port><Protocol>HTTPS</Protocol><DefaultActions>${listeners.get(arn)!.map(actionXml).join('')}</DefaultActions></member>`;
  const result = (action: string, inner: string) =>
    `<${action}Response xmlns="${NS}"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const params = Object.fromEntries(new URLSearchParams(raw));
      const action = params['Action'] ?? '';
      const accessKeyId = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const key = keys.keys.get(accessKeyId);
      requests.push({ action, params, headers: req.headers, role: key?.role });
      if (!key)
        return error(
          res,
          403,
          'InvalidClientTokenId',
          'The security token included in the request is invalid.',
        );
      const problem = sigV4Problem(
        { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw },
        key,
        region,
        'elasticloadbalancing',
      );
      if (problem) return error(res, 403, 'SignatureDoesNotMatch', problem.message);
      if (key.sessionToken !== undefined && req.headers['x-amz-security-token'] !== key.sessionToken) {
        return error(
          res,
          403,
          'InvalidClientTokenId',
          'The security token included in the request is invalid.',
        );
      }
      if (
        req.headers['content-type'] !== 'application/x-www-form-urlencoded' ||
        params['Version'] !== '2015-12-01'
      ) {
        return error(res, 400, 'InvalidAction', 'expected a form-encoded 2015-12-01 request');
      }
      if (stalled.has(action)) return false;
      const refusal = refusals.get(action);
      if (refusal) return error(res, refusal.status, refusal.code, refusal.message);
      const arn = params['ListenerArn'] ?? params['ListenerArns.member.1'] ?? '';
      if (!listeners.has(arn)) return error(res, 400, 'ListenerNotFound', 'One or more listeners not found');
      if (action === 'DescribeListeners')
        return reply(res, 200, result(action, `<Listeners>${listenerXml(arn)}</Listeners>`));
      if (action === 'ModifyListener') {
        const actions = actionsFrom(params);
        if (actions.length === 0)
          return error(res, 400, 'ValidationError', 'DefaultActions must not be empty');
        listeners.set(arn, actions);
        return reply(res, 200, result(action, `<Listeners>${listenerXml(arn)}</Listeners>`));
      }
      return error(res, 400, 'InvalidAction', `Could not find operation ${action}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    calls: (action) => requests.filter((r) => r.action === action).map((r) => r.params),
    addListener: (arn, actions) => {
      listeners.set(arn, actions);
    },
    actionsOf: (arn) => listeners.get(arn) ?? [],
    stall: (action) => {
      stalled.add(action);
    },
    refuse: (action, code, message, status = 400) => {
      refusals.set(action, { code, message, status });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
