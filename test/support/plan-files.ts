/**
 * Plan files written for one test (a local peer's URL or a kubeconfig goes into them): the e2e
 * authority policy every such plan uses, and a temp folder per file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeKubeApi } from './fake-kube-api.js';

/** The e2e policy: the on-call group approves in the first 15 minutes, the team lead after. */
export const E2E_POLICY = `apiVersion: rollback-bot/v1
kind: AuthorityPolicy
metadata: { name: default }
spec:
  roles:
    - { name: on-call-engineer, members: { usergroup: S0ONCALL } }
    - { name: team-lead, members: { users: [U0LEAD1] } }
  tiers:
    - { after: 0m, approver: on-call-engineer, notify: team-lead }
    - { after: 15m, approver: team-lead }
  selfApproval: true
  approvalsRequired: 1
`;

/** Writes the policy and `plans` (YAML documents) to a fresh folder; returns the file's path. */
export function writePlanFile(plans: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rollback-bot-plans-')), 'plans.yaml');
  writeFileSync(file, `${E2E_POLICY}---\n${plans}`);
  return file;
}

/** A kubeconfig file for the fake Kubernetes API (plain HTTP needs insecure-skip-tls-verify). */
export function writeKubeconfig(kube: Pick<FakeKubeApi, 'url' | 'token'>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rollback-bot-kube-')), 'kubeconfig');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters:\n- name: fake\n  cluster: { server: '${kube.url}', insecure-skip-tls-verify: true }`,
      `users:\n- name: bot\n  user: { token: ${kube.token} }`,
      'contexts:\n- name: fake\n  context: { cluster: fake, user: bot }',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  return file;
}
