import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secretStrategy } from '../../../../src/apiserver/registry/resources/core/secrets.js';
import { configMapStrategy } from '../../../../src/apiserver/registry/resources/core/configmaps.js';
import { StatusError } from '../../../../src/machinery/status-error.js';
import { ctx, rejection, storeFor, write } from './harness.js';

test('secrets: stringData is merged into data as base64 and removed; type defaults to Opaque', async () => {
  const store = storeFor('secrets', secretStrategy);
  const created = await store.create('default', { metadata: { name: 's' }, data: { a: Buffer.from('old').toString('base64') }, stringData: { a: 'new', b: 'héllo' } }, ctx(), write);
  assert.equal(created.type, 'Opaque');
  assert.equal(created.stringData, undefined);
  assert.deepEqual(created.data, { a: Buffer.from('new').toString('base64'), b: Buffer.from('héllo').toString('base64') });
});

test('secrets: typed secrets need their keys; data must be base64', async () => {
  const store = storeFor('secrets', secretStrategy);
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 't' }, type: 'kubernetes.io/tls', data: {} }, ctx(), write)),
    'Secret "t" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]',
  );
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'd' }, type: 'kubernetes.io/dockerconfigjson', data: {} }, ctx(), write)),
    'Secret "d" is invalid: data[.dockerconfigjson]: Required value',
  );
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'sa' }, type: 'kubernetes.io/service-account-token' }, ctx(), write)),
    'Secret "sa" is invalid: metadata.annotations[kubernetes.io/service-account.name]: Required value',
  );
  const ok = await store.create('default', { metadata: { name: 'd2' }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths":{}}' } }, ctx(), write);
  assert.equal(ok.type, 'kubernetes.io/dockerconfigjson');
  const err = await store.create('default', { metadata: { name: 'b' }, data: { k: 'not base64!' } }, ctx(), write).catch((e: unknown) => e);
  assert.ok(err instanceof StatusError);
  assert.equal(err.code, 400);
  assert.match(err.message, /illegal base64 data at input byte 3/);
});

test('secrets: immutable secrets keep their data and type is immutable', async () => {
  const store = storeFor('secrets', secretStrategy);
  const created = await store.create('default', { metadata: { name: 'i' }, immutable: true, stringData: { k: 'v' } }, ctx(), write);
  assert.equal(
    await rejection(store.update('default', 'i', { ...created, stringData: { k: 'w' } }, ctx(), write)),
    'Secret "i" is invalid: data: Forbidden: field is immutable when `immutable` is set',
  );
  assert.equal(
    await rejection(store.update('default', 'i', { ...created, immutable: false }, ctx(), write)),
    'Secret "i" is invalid: immutable: Forbidden: field is immutable when `immutable` is set',
  );
  const mutable = await store.create('default', { metadata: { name: 'm' }, stringData: { username: 'u' } }, ctx(), write);
  assert.equal(
    await rejection(store.update('default', 'm', { ...mutable, type: 'kubernetes.io/basic-auth' }, ctx(), write)),
    'Secret "m" is invalid: type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
  );
});

test('configmaps: keys are validated and may not be in both data and binaryData', async () => {
  const store = storeFor('configmaps', configMapStrategy);
  assert.equal(
    await rejection(store.create('default', { metadata: { name: 'c' }, data: { 'bad key': 'x' } }, ctx(), write)),
    // Kubernetes' RegexError really does print ",  or" with two spaces.
    "ConfigMap \"c\" is invalid: data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
  );
  assert.match(
    await rejection(store.create('default', { metadata: { name: 'c' }, data: { k: 'x' }, binaryData: { k: 'eA==' } }, ctx(), write)),
    /data\[k\]: Invalid value: "k": duplicate of key present in binaryData/,
  );
  assert.match(await rejection(store.create('default', { metadata: { name: 'c' }, data: { '..x': 'x' } }, ctx(), write)), /must not start with '\.\.'/);
  const big = 'x'.repeat(1024 * 1024 + 1);
  assert.match(await rejection(store.create('default', { metadata: { name: 'c' }, data: { k: big } }, ctx(), write)), /Too long/);
  const ok = await store.create('default', { metadata: { name: 'ok' }, data: { 'app.properties': 'a=1', KEY_1: 'v' } }, ctx(), write);
  assert.equal((ok.data as Record<string, string>).KEY_1, 'v');
});

test('configmaps: immutable ones refuse data changes', async () => {
  const store = storeFor('configmaps', configMapStrategy);
  const created = await store.create('default', { metadata: { name: 'i' }, immutable: true, data: { a: '1' } }, ctx(), write);
  assert.equal(
    await rejection(store.update('default', 'i', { ...created, data: { a: '2' } }, ctx(), write)),
    'ConfigMap "i" is invalid: data: Forbidden: field is immutable when `immutable` is set',
  );
  const relabelled = await store.update('default', 'i', { ...created, metadata: { ...created.metadata, labels: { x: 'y' } } }, ctx(), write);
  assert.deepEqual(relabelled.metadata?.labels, { x: 'y' });
});
