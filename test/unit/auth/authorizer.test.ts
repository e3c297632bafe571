import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AlwaysAllowAuthenticatedAuthorizer,
  SystemMastersAuthorizer,
  UnionAuthorizer,
  forbidden,
  unauthorized,
  type AuthorizationAttributes,
  type Authorizer,
} from '../../../src/apiserver/auth/authorizer.js';

const bob = { name: 'bob', groups: ['dev', 'system:authenticated'] };
const admin = { name: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
const anonymous = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

function attrs(over: Partial<AuthorizationAttributes> = {}): AuthorizationAttributes {
  return {
    user: bob,
    verb: 'list',
    apiGroup: '',
    resource: 'pods',
    subresource: '',
    namespace: 'default',
    name: '',
    resourceRequest: true,
    path: '/api/v1/namespaces/default/pods',
    ...over,
  };
}

test('forbidden: the exact Status body Kubernetes sends for a namespaced list', () => {
  assert.deepEqual(JSON.parse(JSON.stringify(forbidden(attrs()).toStatus())), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"',
    reason: 'Forbidden',
    details: { kind: 'pods' },
    code: 403,
  });
});

test('forbidden: named, grouped, subresource, cluster-scoped and non-resource forms', () => {
  const named = forbidden(attrs({ verb: 'get', apiGroup: 'apps', resource: 'deployments', name: 'web' }));
  assert.equal(named.message, 'deployments.apps "web" is forbidden: User "bob" cannot get resource "deployments" in API group "apps" in the namespace "default"');
  assert.deepEqual(named.details, { name: 'web', group: 'apps', kind: 'deployments' });

  const sub = forbidden(attrs({ verb: 'get', resource: 'pods', subresource: 'log', name: 'p' }));
  assert.equal(sub.message, 'pods "p" is forbidden: User "bob" cannot get resource "pods/log" in API group "" in the namespace "default"');

  const cluster = forbidden(attrs({ resource: 'nodes', namespace: '' }));
  assert.equal(cluster.message, 'nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope');

  const path = forbidden(attrs({ user: anonymous, verb: 'get', resource: '', resourceRequest: false, namespace: '', path: '/logs' }));
  assert.equal(path.message, 'forbidden: User "system:anonymous" cannot get path "/logs"');
  assert.deepEqual(path.toStatus().details, {});

  const withReason = forbidden(attrs(), 'RBAC: role "x" not found');
  assert.equal(withReason.message, 'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default": RBAC: role "x" not found');
  assert.equal(withReason.code, 403);
});

test('unauthorized: the exact 401 Status body', () => {
  assert.deepEqual(JSON.parse(JSON.stringify(unauthorized('invalid bearer token').toStatus())), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Unauthorized',
    reason: 'Unauthorized',
    code: 401,
  });
});

test('SystemMastersAuthorizer allows system:masters only', async () => {
  const a = new SystemMastersAuthorizer();
  assert.equal((await a.authorize(attrs({ user: admin, verb: 'delete', resource: 'nodes', namespace: '' }))).allowed, true);
  assert.equal((await a.authorize(attrs({ user: admin, resourceRequest: false, resource: '', path: '/metrics', verb: 'get' }))).allowed, true);
  assert.equal((await a.authorize(attrs())).allowed, false);
  assert.equal((await a.authorize(attrs({ user: anonymous }))).allowed, false);
});

test('AlwaysAllowAuthenticatedAuthorizer refuses anonymous requests', async () => {
  const a = new AlwaysAllowAuthenticatedAuthorizer();
  assert.equal((await a.authorize(attrs())).allowed, true);
  assert.equal((await a.authorize(attrs({ user: anonymous }))).allowed, false);
});

test('UnionAuthorizer: first allow wins, denial reasons are collected', async () => {
  const deny = (reason: string): Authorizer => ({ authorize: async () => ({ allowed: false, reason }) });
  const union = new UnionAuthorizer([deny('no role'), new SystemMastersAuthorizer()]);
  assert.equal((await union.authorize(attrs({ user: admin }))).allowed, true);
  assert.deepEqual(await union.authorize(attrs()), { allowed: false, reason: 'no role' });
});
