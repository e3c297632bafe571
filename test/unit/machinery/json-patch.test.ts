import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../../src/machinery/status-error.js';
import { applyJsonPatch } from '../../../src/machinery/json-patch.js';

const pod = {
  metadata: { name: 'p', labels: { app: 'web' }, finalizers: ['a'] },
  spec: { containers: [{ name: 'web', image: 'nginx:1.25' }, { name: 'log', image: 'busybox' }] },
};

function rejected(fn: () => unknown, code: number): StatusError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, String(e));
    assert.equal(e.code, code);
    return e;
  }
  assert.fail('expected an error');
}

test('kubectl patch --type=json: replace an image and append a finalizer', () => {
  const out = applyJsonPatch(pod, [
    { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:1.26' },
    { op: 'add', path: '/metadata/finalizers/-', value: 'b' },
  ]) as typeof pod;
  assert.equal(out.spec.containers[0]!.image, 'nginx:1.26');
  assert.deepEqual(out.metadata.finalizers, ['a', 'b']);
  assert.equal(pod.spec.containers[0]!.image, 'nginx:1.25', 'input untouched');
});

test('~1 and ~0 escapes in keys', () => {
  const out = applyJsonPatch(pod, [
    { op: 'add', path: '/metadata/labels/app.kubernetes.io~1name', value: 'web' },
    { op: 'add', path: '/metadata/labels/odd~0key', value: 'x' },
  ]) as typeof pod;
  assert.deepEqual(out.metadata.labels, { app: 'web', 'app.kubernetes.io/name': 'web', 'odd~key': 'x' });
});

test('add inserts into arrays, remove/move/copy/test work', () => {
  const out = applyJsonPatch(pod, [
    { op: 'add', path: '/spec/containers/1', value: { name: 'mid', image: 'x' } },
    { op: 'test', path: '/spec/containers/2/name', value: 'log' },
    { op: 'remove', path: '/spec/containers/2' },
    { op: 'copy', from: '/metadata/labels', path: '/metadata/annotations' },
    { op: 'move', from: '/metadata/finalizers', path: '/metadata/oldFinalizers' },
    { op: 'test', path: '/metadata/annotations', value: { app: 'web' } },
  ]) as { metadata: Record<string, unknown>; spec: { containers: Array<{ name: string }> } };
  assert.deepEqual(
    out.spec.containers.map((c) => c.name),
    ['web', 'mid'],
  );
  assert.deepEqual(out.metadata, { name: 'p', labels: { app: 'web' }, annotations: { app: 'web' }, oldFinalizers: ['a'] });
});

test('replacing the whole document', () => {
  assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }]), { b: 2 });
});

test('a failing operation is 422 Invalid with Kubernetes generic message', () => {
  const e = rejected(() => applyJsonPatch(pod, [{ op: 'test', path: '/metadata/name', value: 'other' }]), 422);
  assert.equal(e.reason, 'Invalid');
  assert.equal(e.message, 'the server rejected our request due to an error in our request');
  assert.match(String((e.cause as Error).message), /testing value \/metadata\/name failed/);
  rejected(() => applyJsonPatch(pod, [{ op: 'remove', path: '/metadata/nope' }]), 422);
  rejected(() => applyJsonPatch(pod, [{ op: 'replace', path: '/metadata/nope', value: 1 }]), 422);
  rejected(() => applyJsonPatch(pod, [{ op: 'add', path: '/nope/deeper', value: 1 }]), 422);
  rejected(() => applyJsonPatch(pod, [{ op: 'add', path: '/spec/containers/5', value: {} }]), 422);
  rejected(() => applyJsonPatch(pod, [{ op: 'replace', path: '/spec/containers/-', value: {} }]), 422);
  rejected(() => applyJsonPatch(pod, [{ op: 'add', path: '/spec/containers/01', value: {} }]), 422);
  rejected(() => applyJsonPatch(pod, [{ op: 'move', from: '/spec', path: '/spec/inner' }]), 422);
  rejected(() => applyJsonPatch(pod, [{ op: 'frobnicate', path: '/a' }]), 422);
  rejected(() => applyJsonPatch(pod, [{ op: 'add', value: 1 }]), 422);
});

test('a test against a missing member passes only for null', () => {
  assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/b', value: null }]), { a: 1 });
  rejected(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/b', value: 0 }]), 422);
});

test('a body that is not a list of operations is 400 BadRequest', () => {
  const e = rejected(() => applyJsonPatch(pod, { op: 'add' }), 400);
  assert.equal(e.message, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  rejected(() => applyJsonPatch(pod, ['add']), 400);
});
