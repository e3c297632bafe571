import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validatePayloadPath, writeAtomic, type Payload } from '../../../../src/kubelet/volumes/atomic-writer.js';

function payload(files: Record<string, string>, mode = 0o644): Payload {
  return new Map(Object.entries(files).map(([k, v]) => [k, { data: Buffer.from(v), mode }]));
}

test('files appear through ..data and visible symlinks, and an update swaps them all at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-aw-'));
  try {
    assert.equal(await writeAtomic(dir, payload({ a: '1', 'sub/b': '2' }), new Date('2026-03-04T05:06:07Z')), true);
    const first = readlinkSync(join(dir, '..data'));
    assert.match(first, /^\.\.2026_03_04_05_06_07\./);
    assert.equal(readlinkSync(join(dir, 'a')), '..data/a');
    assert.equal(readlinkSync(join(dir, 'sub')), '..data/sub');
    assert.equal(readFileSync(join(dir, 'sub/b'), 'utf8'), '2');
    assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o644);

    assert.equal(await writeAtomic(dir, payload({ a: '1', 'sub/b': '2' })), false, 'same payload: nothing written');
    assert.equal(readlinkSync(join(dir, '..data')), first);

    assert.equal(await writeAtomic(dir, payload({ a: 'changed', c: '3' }, 0o400)), true);
    assert.notEqual(readlinkSync(join(dir, '..data')), first);
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'changed');
    assert.equal(readFileSync(join(dir, 'c'), 'utf8'), '3');
    assert.equal(statSync(join(dir, 'c')).mode & 0o777, 0o400);
    assert.equal(existsSync(join(dir, 'sub')), false, 'a key that left the payload is gone');
    assert.equal(existsSync(join(dir, first)), false, 'the old timestamped directory is removed');
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('..')).length, 2, '..data and one timestamped directory');

    assert.equal(await writeAtomic(dir, payload({ a: 'changed', c: '3' }, 0o644)), true, 'a mode change alone is written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('payload paths that could escape the volume are refused', () => {
  assert.throws(() => validatePayloadPath('/etc/passwd'), /must be relative path/);
  assert.throws(() => validatePayloadPath('a/../../b'), /must not contain '\.\.'/);
  assert.throws(() => validatePayloadPath('..data'), /must not start with '\.\.'/);
  assert.doesNotThrow(() => validatePayloadPath('a/b.txt'));
});
