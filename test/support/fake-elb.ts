/**
 * A local Elastic Load Balancing v2 API speaking the query protocol the SDK sends (test/support/
 * fake-aws-query.ts): `POST /` with a form-encoded body (`Action=ModifyListener&Version=2015-12-01&
 * DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight=100...`), SigV4 for
 * `elasticloadbalancing` checked against the test's keys, XML answers, errors as
 * `<ErrorResponse><Error><Code>ListenerNotFound`.
 *
 * It models listeners with default actions (forward with weighted target groups, and any other
 * action kept as given), and target groups with registered targets: DeregisterTargets puts a target
 * in `draining` (reason Target.DeregistrationInProgress) for `drainReads` DescribeTargetHealth reads,
 * then it is gone; DescribeTargetHealth of a named target that is not registered answers `unused`,
 * Target.NotRegistered, as ELB does; deregistering one that is not registered is `InvalidTarget`.
 * A test shifts a listener or registers targets "from elsewhere". Reach it with
 * AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2.
 */
import type { KeyRing } from './fake-aws-json.js';
import {
  AwsFault,
  field,
  members,
  startAwsQueryPeer,
  type AwsQueryPeer,
  type AwsQueryRequest,
} from './fake-aws-query.js';

export interface ElbAction {
  Type: string;
  Order?: number;
  TargetGroupArn?: string;
  TargetGroups?: Array<{ TargetGroupArn: string; Weight: number }>;
  Stickiness?: boolean;
}

export interface FakeTarget {
  id: string;
  port: number;
  state: string;
  reason?: string;
  /** DescribeTargetHealth reads left before a draining target is gone. */
  drainReads?: number;
}

export interface FakeElb extends AwsQueryPeer {
  addListener(arn: string, actions: ElbAction[]): void;
  actionsOf(arn: string): ElbAction[];
  /** A target group with targets registered on `port` (healthy unless said). */
  addTargetGroup(
    arn: string,
    port: number,
    targets: ReadonlyArray<Partial<FakeTarget> & { id: string }>,
  ): void;
  /** The targets registered in the group now, draining ones included. */
  targetsOf(arn: string): FakeTarget[];
  /** How many reads a deregistered target drains for (default 2; 0: gone at once). */
  drainReads: number;
}

const NS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

function actionXml(action: ElbAction): string {
  const groups = action.TargetGroups;
  const forward =
    groups === undefined
      ? ''
      : `<ForwardConfig><TargetGroups>${members(groups, (g) => `${field('TargetGroupArn', g.TargetGroupArn)}${field('Weight', g.Weight)}`)}</TargetGroups><TargetGroupStickinessConfig><Enabled>${action.Stickiness === true}</Enabled></TargetGroupStickinessConfig></ForwardConfig>`;
  return `<member>${field('Type', action.Type)}${field('Order', action.Order)}${field('TargetGroupArn', action.TargetGroupArn)}${forward}</member>`;
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

/** `Targets.member.N.Id` / `.Port` form fields back into targets (port undefined when not sent). */
function targetsFrom(params: Record<string, string>): Array<{ id: string; port: number | undefined }> {
  const targets: Array<{ id: string; port: number | undefined }> = [];
  for (let n = 1; params[`Targets.member.${n}.Id`] !== undefined; n += 1) {
    const port = params[`Targets.member.${n}.Port`];
    targets.push({
      id: params[`Targets.member.${n}.Id`]!,
      port: port === undefined ? undefined : Number(port),
    });
  }
  return targets;
}

export async function startFakeElb(options: { keys?: KeyRing; region?: string } = {}): Promise<FakeElb> {
  const listeners = new Map<string, ElbAction[]>();
  const groups = new Map<string, { port: number; targets: FakeTarget[] }>();
  const state = { drainReads: 2 };

  const listenerXml = (arn: string) =>
    `<member>${field('ListenerArn', arn)}<Port>443</Port><Protocol>HTTPS</Protocol><DefaultActions>${listeners.get(arn)!.map(actionXml).join('')}</DefaultActions></member>`;
  const listener = (params: Record<string, string>) => {
    const arn = params['ListenerArn'] ?? params['ListenerArns.member.1'] ?? '';
    if (!listeners.has(arn)) throw new AwsFault('ListenerNotFound', 'One or more listeners not found');
    return arn;
  };
  const group = (params: Record<string, string>) => {
    const found = groups.get(params['TargetGroupArn'] ?? '');
    if (!found) throw new AwsFault('TargetGroupNotFound', 'One or more target groups not found');
    return found;
  };
  const healthXml = (id: string, port: number, target: FakeTarget | undefined) => {
    const health =
      target === undefined
        ? '<State>unused</State><Reason>Target.NotRegistered</Reason><Description>Target is not registered to the target group</Description>'
        : `${field('State', target.state)}${field('Reason', target.reason)}${target.state === 'draining' ? '<Description>Target deregistration is in progress</Description>' : ''}`;
    return `<member><Target>${field('Id', id)}${field('Port', port)}</Target>${field('HealthCheckPort', port)}<TargetHealth>${health}</TargetHealth></member>`;
  };

  const handle = (request: AwsQueryRequest): string | undefined => {
    const { params } = request;
    switch (request.action) {
      case 'DescribeListeners':
        return `<Listeners>${listenerXml(listener(params))}</Listeners>`;
      case 'ModifyListener': {
        const arn = listener(params);
        const actions = actionsFrom(params);
        if (actions.length === 0) throw new AwsFault('ValidationError', 'DefaultActions must not be empty');
        listeners.set(arn, actions);
        return `<Listeners>${listenerXml(arn)}</Listeners>`;
      }
      case 'DescribeTargetHealth': {
        const tg = group(params);
        const asked = targetsFrom(params);
        const answer =
          asked.length === 0
            ? tg.targets.map((t) => healthXml(t.id, t.port, t)).join('')
            : asked
                .map(({ id, port = tg.port }) =>
                  healthXml(
                    id,
                    port,
                    tg.targets.find((t) => t.id === id && t.port === port),
                  ),
                )
                .join('');
        for (const t of tg.targets) {
          if (t.state === 'draining') t.drainReads = (t.drainReads ?? 0) - 1;
        }
        tg.targets = tg.targets.filter((t) => t.state !== 'draining' || (t.drainReads ?? 0) > 0);
        return `<TargetHealthDescriptions>${answer}</TargetHealthDescriptions>`;
      }
      case 'DeregisterTargets': {
        const tg = group(params);
        const asked = targetsFrom(params);
        if (asked.length === 0) throw new AwsFault('ValidationError', 'Targets must not be empty');
        const found = asked.map(({ id, port = tg.port }) => {
          const target = tg.targets.find((t) => t.id === id && t.port === port);
          if (!target) {
            throw new AwsFault(
              'InvalidTarget',
              `The following targets are not registered in target group: ${id}:${port}`,
            );
          }
          return target;
        });
        for (const target of found) {
          if (state.drainReads === 0) {
            tg.targets = tg.targets.filter((t) => t !== target);
          } else if (target.state !== 'draining') {
            Object.assign(target, {
              state: 'draining',
              reason: 'Target.DeregistrationInProgress',
              drainReads: state.drainReads,
            });
          }
        }
        return '';
      }
      default:
        throw new AwsFault('InvalidAction', `Could not find operation ${request.action}`);
    }
  };

  const peer = await startAwsQueryPeer({
    signingName: 'elasticloadbalancing',
    version: '2015-12-01',
    xmlns: NS,
    handle,
    ...(options.keys === undefined ? {} : { keys: options.keys }),
    ...(options.region === undefined ? {} : { region: options.region }),
  });
  return {
    ...peer,
    addListener: (arn, actions) => {
      listeners.set(arn, actions);
    },
    actionsOf: (arn) => listeners.get(arn) ?? [],
    addTargetGroup: (arn, port, targets) => {
      groups.set(arn, {
        port,
        targets: targets.map((t) => ({ state: 'healthy', port, ...t })),
      });
    },
    targetsOf: (arn) => groups.get(arn)?.targets ?? [],
    get drainReads() {
      return state.drainReads;
    },
    set drainReads(reads: number) {
      state.drainReads = reads;
    },
  };
}
