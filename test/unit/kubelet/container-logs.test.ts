import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseCriLog, streamLog } from '../../../src/kubelet/server/container-logs.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ts-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = (text: string): string => {
  const p = join(dir, `${files++}.log`);
  writeFileSync(p, text);
  return p;
};

async function read(path: string, opts: Parameters<typeof streamLog>[1], running = async () => false): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  await streamLog(path, opts, out, running);
  return text;
}

const sample = [
  '2026-11-23T01:00:00.000000001Z stdout F one',
  '2026-11-23T01:00:01.000000001Z stderr F two',
  '2026-11-23T01:00:02.000000001Z stdout P thr',
  '2026-11-23T01:00:02.500000001Z stdout F ee',
  '2026-11-23T01:00:03.000000001Z stdout F four',
  '',
].join('\n');

test('CRI log lines are parsed, partial lines joined', () => {
  const { lines, rest } = parseCriLog(sample + '2026-11-23T01:00:04Z stdout F unfinish');
  assert.deepEqual(lines.map((l) => l.text), ['one', 'two', 'three', 'four']);
  assert.equal(lines[2]!.time, '2026-11-23T01:00:02.000000001Z');
  assert.equal(rest, '2026-11-23T01:00:04Z stdout F unfinish');
});

test('tailLines, timestamps, since and limitBytes behave as kubectl logs asks', async () => {
  const p = file(sample);
  assert.equal(await read(p, {}), 'one\ntwo\nthree\nfour\n');
  assert.equal(await read(p, { tailLines: 2 }), 'three\nfour\n');
  assert.equal(await read(p, { tailLines: 0 }), '');
  assert.equal(await read(p, { tailLines: 1, timestamps: true }), '2026-11-23T01:00:03.000000001Z four\n');
  assert.equal(await read(p, { since: Date.parse('2026-11-23T01:00:02Z') }), 'three\nfour\n');
  assert.equal(await read(p, { limitBytes: 6 }), 'one\ntw');
});

test('follow keeps reading while the container runs', async () => {
  const p = file('2026-11-23T01:00:00Z stdout F first\n');
  let running = true;
  const pending = read(p, { follow: true }, async () => running);
  await new Promise((r) => setTimeout(r, 250));
  appendFileSync(p, '2026-11-23T01:00:05Z stdout F second\n');
  await new Promise((r) => setTimeout(r, 250));
  running = false;
  assert.equal(await pending, 'first\nsecond\n');
});
