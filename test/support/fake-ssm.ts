/**
 * A local SSM Parameter Store for the aws-ssm-parameter executor, on the JSON 1.1 peer
 * (`X-Amz-Target: AmazonSSM.<Operation>`): GetParameterHistory (oldest first, pages of MaxResults,
 * at most 50, with NextToken; values "decrypted" only WithDecryption) and PutParameter (a new
 * version; Overwrite required for an existing name; ParameterNotFound and
 * ParameterAlreadyExists as SSM names them). A test writes versions "from elsewhere" directly.
 */
import {
  AwsFault,
  startAwsJsonPeer,
  type AwsJsonPeer,
  type AwsJsonRequest,
  type KeyRing,
} from './fake-aws-json.js';

export interface SsmVersion {
  Name: string;
  Version: number;
  Value: string;
  Type: 'String' | 'StringList' | 'SecureString';
  Labels: string[];
  KeyId?: string;
  Tier: 'Standard' | 'Advanced';
  DataType: string;
  LastModifiedDate: number;
  LastModifiedUser: string;
}

export interface FakeSsm extends AwsJsonPeer {
  versions(name: string): SsmVersion[];
  /** Someone else writes `name` (the console, a deploy): a new version, no request recorded. */
  putElsewhere(
    name: string,
    value: string,
    options?: Partial<Pick<SsmVersion, 'Type' | 'Labels' | 'KeyId'>>,
  ): SsmVersion;
}

export async function startFakeSsm(options: { keys?: KeyRing; region?: string } = {}): Promise<FakeSsm> {
  const parameters = new Map<string, SsmVersion[]>();
  const put = (name: string, value: string, user: string, extra: Partial<SsmVersion> = {}): SsmVersion => {
    const versions = parameters.get(name) ?? [];
    parameters.set(name, versions);
    const last = versions.at(-1);
    const version: SsmVersion = {
      Name: name,
      Version: (last?.Version ?? 0) + 1,
      Value: value,
      Type: extra.Type ?? last?.Type ?? 'String',
      Labels: extra.Labels ?? [],
      ...((extra.KeyId ?? last?.KeyId) ? { KeyId: extra.KeyId ?? last?.KeyId } : {}),
      Tier: extra.Tier ?? last?.Tier ?? 'Standard',
      DataType: extra.DataType ?? last?.DataType ?? 'text',
      LastModifiedDate: Date.now() / 1000,
      LastModifiedUser: user,
    };
    versions.push(version);
    return version;
  };
  const named = (body: Record<string, unknown>): string => {
    const name = body['Name'];
    if (typeof name !== 'string' || name === '')
      throw new AwsFault('ValidationException', 'Name is required');
    return name;
  };

  const handle = (request: AwsJsonRequest): unknown => {
    const { body } = request;
    switch (request.operation) {
      case 'GetParameterHistory': {
        const versions = parameters.get(named(body));
        if (!versions) throw new AwsFault('ParameterNotFound', `Parameter ${named(body)} not found.`);
        const max = typeof body['MaxResults'] === 'number' ? body['MaxResults'] : 50;
        if (max > 50) throw new AwsFault('ValidationException', 'MaxResults must be at most 50');
        const start = typeof body['NextToken'] === 'string' ? Number(body['NextToken']) : 0;
        const page = versions.slice(start, start + max).map((v) => ({
          ...v,
          Value: v.Type === 'SecureString' && body['WithDecryption'] !== true ? 'AQICAHencrypted==' : v.Value,
        }));
        const next = start + max < versions.length ? String(start + max) : undefined;
        return { Parameters: page, ...(next === undefined ? {} : { NextToken: next }) };
      }
      case 'PutParameter': {
        const name = named(body);
        if (typeof body['Value'] !== 'string') throw new AwsFault('ValidationException', 'Value is required');
        if (parameters.has(name) && body['Overwrite'] !== true) {
          throw new AwsFault(
            'ParameterAlreadyExists',
            'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
          );
        }
        const written = put(
          name,
          body['Value'],
          request.role ?? `arn:aws:iam::123456789012:user/${request.accessKeyId}`,
          {
            ...(typeof body['Type'] === 'string' ? { Type: body['Type'] as SsmVersion['Type'] } : {}),
            ...(typeof body['KeyId'] === 'string' ? { KeyId: body['KeyId'] } : {}),
          },
        );
        return { Version: written.Version, Tier: written.Tier };
      }
      default:
        throw new AwsFault('InvalidAction', `unknown operation ${request.operation}`);
    }
  };

  const peer = await startAwsJsonPeer({
    signingName: 'ssm',
    targetPrefix: 'AmazonSSM.',
    version: '1.1',
    handle,
    ...(options.keys === undefined ? {} : { keys: options.keys }),
    ...(options.region === undefined ? {} : { region: options.region }),
  });
  return {
    ...peer,
    versions: (name) => parameters.get(name) ?? [],
    putElsewhere: (name, value, extra = {}) =>
      put(name, value, 'arn:aws:iam::123456789012:user/console', extra),
  };
}
