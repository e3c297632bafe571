import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tcpProbe } from '../../../../src/kubelet/probes/tcp-probe.js';

test('a listening port is a success, a closed one a refused dial', async () => {
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  assert.deepEqual(await tcpProbe('127.0.0.1', port, 1000), { result: 'success', output: '' });
  await new Promise((r) => server.close(r));
  assert.deepEqual(await tcpProbe('127.0.0.1', port, 1000), { result: 'failure', output: `dial tcp 127.0.0.1:${port}: connect: connection refused` });
});
