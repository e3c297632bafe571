import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { CriError, type CriClient } from '../../../../src/kubelet/cri/cri-client.js';
import { execProbe, expandCommand } from '../../../../src/kubelet/probes/exec-probe.js';

/** A CRI that answers ExecSync with `reply` and records the requests. */
function fakeCri(reply: (req: Record<string, unknown>) => Record<string, unknown>): { cri: CriClient; calls: Array<Record<string, unknown>> } {
  const calls: Array<Record<string, unknown>> = [];
  const cri = {
    runtime: async (method: string, req: Record<string, unknown>) => {
      assert.equal(method, 'ExecSync');
      calls.push(req);
      return reply(req);
    },
  } as unknown as CriClient;
  return { cri, calls };
}

test('exit 0 succeeds, another exit code fails with stdout and stderr as output', async () => {
  const ok = fakeCri(() => ({ stdout: Buffer.from('fine\n'), stderr: Buffer.alloc(0), exitCode: 0 }));
  assert.deepEqual(await execProbe(ok.cri, 'c1', ['cat', '/tmp/healthy'], 3), { result: 'success', output: 'fine\n' });
  assert.deepEqual(ok.calls[0], { containerId: 'c1', cmd: ['cat', '/tmp/healthy'], timeout: '3' });
  const bad = fakeCri(() => ({ stdout: Buffer.from('out '), stderr: Buffer.from('cat: /tmp/healthy: No such file or directory\n'), exitCode: 1 }));
  assert.deepEqual(await execProbe(bad.cri, 'c1', ['cat', '/tmp/healthy'], 1), { result: 'failure', output: 'out cat: /tmp/healthy: No such file or directory\n' });
});

test('a timed-out command fails as the kubelet words it; other runtime errors leave the probe unknown', async () => {
  const slow = fakeCri(() => {
    throw new CriError('ExecSync', grpc.status.DEADLINE_EXCEEDED, 'timeout 1s exceeded: context deadline exceeded');
  });
  assert.deepEqual(await execProbe(slow.cri, 'c1', ['sh', '-c', 'sleep 10'], 1), { result: 'failure', output: 'command "sh -c sleep 10" timed out' });
  const gone = fakeCri(() => {
    throw new CriError('ExecSync', grpc.status.NOT_FOUND, 'container not found');
  });
  assert.deepEqual(await execProbe(gone.cri, 'c1', ['true'], 1), { result: 'unknown', output: 'rpc error: code = NotFound desc = container not found' });
});

test('$(VAR) in the command expands from literal env values only', () => {
  const env = [{ name: 'FILE', value: '/tmp/ok' }, { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }];
  assert.deepEqual(expandCommand(['cat', '$(FILE)', '$(SECRET)', '$$(FILE)', '$(NONE)', 'a$b'], env), ['cat', '/tmp/ok', '$(SECRET)', '$(FILE)', '$(NONE)', 'a$b']);
});
