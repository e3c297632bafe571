import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientEventRecorder } from '../../../src/client/event-recorder.js';
import { refs } from '../../../src/client/informer.js';
import { FakeClock } from '../../../src/machinery/clock.js';
import { startPlane } from './in-process-plane.js';

test('ClientEventRecorder: repeats fold into one Event with a count; other reasons and objects get their own', async () => {
  const p = await startPlane();
  try {
    const c = p.client;
    const clock = new FakeClock(new Date('2026-03-01T10:00:00Z'));
    const pod = await c.create(refs.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const node = await c.create(refs.nodes, '', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    const rec = new ClientEventRecorder(c, 'default-scheduler', 'host-1', clock);

    rec.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu.');
    await rec.flush();
    await clock.step(30_000);
    rec.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu.');
    rec.event(pod, 'Normal', 'Scheduled', 'Successfully assigned default/web to n1');
    rec.event(node, 'Normal', 'RegisteredNode', 'Node n1 event: Registered Node n1 in Controller');
    await rec.flush();

    const events = (await c.list(refs.events, 'default')).items;
    const failed = events.filter((e) => e['reason'] === 'FailedScheduling');
    assert.equal(failed.length, 1, 'the same event twice is one Event');
    const f = failed[0]!;
    assert.equal(f['count'], 2);
    assert.equal(f['type'], 'Warning');
    assert.equal(f['message'], '0/3 nodes are available: 3 Insufficient cpu.');
    assert.equal(f['firstTimestamp'], '2026-03-01T10:00:00Z');
    assert.equal(f['lastTimestamp'], '2026-03-01T10:00:30Z');
    assert.deepEqual(f['source'], { component: 'default-scheduler', host: 'host-1' });
    const involved = f['involvedObject'] as Record<string, unknown>;
    assert.equal(involved['kind'], 'Pod');
    assert.equal(involved['name'], 'web');
    assert.equal(involved['namespace'], 'default');
    assert.equal(involved['uid'], pod.metadata?.uid);
    assert.match(f.metadata?.name ?? '', /^web\.[0-9a-f]+$/);

    const scheduled = events.filter((e) => e['reason'] === 'Scheduled');
    assert.equal(scheduled.length, 1);
    assert.equal(scheduled[0]!['count'], 1);

    // Cluster-scoped objects' events go to the default namespace, as client-go does.
    const reg = events.find((e) => e['reason'] === 'RegisteredNode');
    assert.ok(reg);
    assert.equal((reg['involvedObject'] as Record<string, unknown>)['kind'], 'Node');

    // An Event deleted meanwhile (e.g. by TTL) is recreated rather than lost.
    await c.delete(refs.events, 'default', f.metadata!.name!);
    rec.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu.');
    await rec.flush();
    const again = (await c.list(refs.events, 'default')).items.filter((e) => e['reason'] === 'FailedScheduling');
    assert.equal(again.length, 1);
    assert.equal(again[0]!['count'], 1);
  } finally {
    await p.stop();
  }
});
