/**
 * A local EC2 answering DescribeLaunchTemplateVersions in EC2's dialect of the query protocol
 * (test/support/fake-aws-query.ts): `LaunchTemplateId` or `LaunchTemplateName`, versions as
 * `LaunchTemplateVersion.N` (numbers, `$Latest`, `$Default`) or a `MinVersion`/`MaxVersion` range,
 * `MaxResults` (1-200) and `NextToken` pages; `<launchTemplateVersionSet><item>` answers; an unknown
 * template is `InvalidLaunchTemplateId.NotFound`, an unknown version
 * `InvalidLaunchTemplateId.VersionNotFound`. A test creates templates and versions directly (a
 * deploy pipeline's work). Reach it with AWS_ENDPOINT_URL_EC2.
 */
import {
  AwsFault,
  field,
  members,
  startAwsQueryPeer,
  type AwsQueryPeer,
  type AwsQueryRequest,
} from './fake-aws-query.js';
import type { KeyRing } from './fake-aws-json.js';

export interface FakeTemplateVersion {
  number: number;
  description?: string;
  createdAt: string;
}

interface Template {
  id: string;
  name: string;
  defaultVersion: number;
  versions: FakeTemplateVersion[];
}

export interface FakeEc2 extends AwsQueryPeer {
  /** A launch template with `versions` versions (1..n), each described as given (or not). */
  addTemplate(id: string, name: string, descriptions: ReadonlyArray<string | undefined>): void;
  /** A new version of the template, as a deploy makes it; its number. */
  addVersion(id: string, description?: string): number;
  /** Versions deleted from the template (EC2 keeps gaps in the numbering). */
  deleteVersions(id: string, numbers: readonly number[]): void;
  setDefault(id: string, version: number): void;
  /** Largest page EC2 answers, whatever MaxResults says (default 200, the real maximum). */
  pageSize: number;
}

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export async function startFakeEc2(options: { keys?: KeyRing } = {}): Promise<FakeEc2> {
  const templates = new Map<string, Template>();
  let clock = Date.parse('2026-11-01T00:00:00Z');
  const state = { pageSize: 200 };

  const find = (params: Record<string, string>): Template => {
    const id = params['LaunchTemplateId'];
    const name = params['LaunchTemplateName'];
    const template =
      id !== undefined ? templates.get(id) : [...templates.values()].find((t) => t.name === name);
    if (template) return template;
    throw new AwsFault(
      id !== undefined ? 'InvalidLaunchTemplateId.NotFound' : 'InvalidLaunchTemplateName.NotFoundException',
      id !== undefined
        ? `The specified launch template, with template ID ${id}, does not exist.`
        : `At least one of the launch templates specified in the request does not exist.`,
    );
  };

  const handle = (request: AwsQueryRequest): string => {
    const { params } = request;
    if (request.action !== 'DescribeLaunchTemplateVersions') {
      throw new AwsFault('InvalidAction', `The action ${request.action} is not valid for this web service.`);
    }
    const template = find(params);
    const asked = Object.entries(params)
      .filter(([key]) => /^LaunchTemplateVersion\.\d+$/.test(key))
      .map(([, value]) => value);
    const min = params['MinVersion'];
    const max = params['MaxVersion'];
    let found: FakeTemplateVersion[];
    if (asked.length > 0) {
      if (min !== undefined || max !== undefined || params['MaxResults'] !== undefined) {
        throw new AwsFault(
          'InvalidParameterCombination',
          'Versions cannot be combined with MinVersion, MaxVersion or MaxResults.',
        );
      }
      found = asked.map((text) => {
        const number =
          text === '$Latest'
            ? Math.max(...template.versions.map((v) => v.number))
            : text === '$Default'
              ? template.defaultVersion
              : Number(text);
        const version = template.versions.find((v) => v.number === number);
        if (!version) {
          throw new AwsFault(
            'InvalidLaunchTemplateId.VersionNotFound',
            `Could not find launch template version ${text} for launch template ${template.id}`,
          );
        }
        return version;
      });
    } else {
      found = template.versions.filter(
        (v) =>
          (min === undefined || v.number >= Number(min)) && (max === undefined || v.number <= Number(max)),
      );
    }
    const size = Math.min(Number(params['MaxResults'] ?? state.pageSize), state.pageSize);
    const start = Number(params['NextToken'] ?? 0);
    const page = found.slice(start, start + size);
    const next = start + size < found.length ? String(start + size) : undefined;
    const item = (v: FakeTemplateVersion) =>
      `${field('launchTemplateId', template.id)}${field('launchTemplateName', template.name)}${field('versionNumber', v.number)}${field('versionDescription', v.description)}${field('createTime', v.createdAt)}${field('createdBy', 'arn:aws:iam::123456789012:role/deploy')}${field('defaultVersion', v.number === template.defaultVersion)}<launchTemplateData><imageId>ami-${String(v.number).padStart(8, '0')}</imageId><instanceType>m7g.large</instanceType></launchTemplateData>`;
    return `<launchTemplateVersionSet>${members(page, item, 'item')}</launchTemplateVersionSet>${field('nextToken', next)}`;
  };

  const peer = await startAwsQueryPeer({
    signingName: 'ec2',
    version: '2016-11-15',
    xmlns: NS,
    ec2: true,
    handle,
    ...(options.keys === undefined ? {} : { keys: options.keys }),
  });
  const version = (number: number, description: string | undefined): FakeTemplateVersion => {
    clock += 3_600_000;
    return {
      number,
      ...(description === undefined ? {} : { description }),
      createdAt: new Date(clock).toISOString(),
    };
  };
  const fake: FakeEc2 = {
    ...peer,
    addTemplate: (id, name, descriptions) => {
      templates.set(id, {
        id,
        name,
        defaultVersion: 1,
        versions: descriptions.map((d, i) => version(i + 1, d)),
      });
    },
    addVersion: (id, description) => {
      const template = templates.get(id)!;
      const number = Math.max(0, ...template.versions.map((v) => v.number)) + 1;
      template.versions.push(version(number, description));
      return number;
    },
    deleteVersions: (id, numbers) => {
      const template = templates.get(id)!;
      template.versions = template.versions.filter((v) => !numbers.includes(v.number));
    },
    setDefault: (id, number) => {
      templates.get(id)!.defaultVersion = number;
    },
    get pageSize() {
      return state.pageSize;
    },
    set pageSize(size: number) {
      state.pageSize = size;
    },
  };
  return fake;
}
