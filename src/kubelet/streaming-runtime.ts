/**
 * exec, attach and port-forward through the CRI: the kubelet finds the pod's running container
 * (or its sandbox) and asks the runtime for a one-time streaming URL, which the kubelet's server
 * then upgrades to. Errors carry the kubelet's messages (`container not found ("x")`).
 */
import type { CriClient } from './cri/cri-client.js';
import { labels } from './container-config.js';
import { StreamingError, type StreamingRuntime, type StreamOptions } from './server/kubelet-server.js';

export interface CriContainer {
  id: string;
  state: string;
  metadata: { name: string; attempt: number };
}

interface CriSandbox {
  id: string;
  state: string;
  metadata: { attempt: number };
}

/** The runs of one container of a pod in the runtime, newest first (for exec, and for logs). */
export async function containerRuns(cri: CriClient, namespace: string, pod: string, container: string): Promise<CriContainer[]> {
  const res = await cri.runtime<{ containers: CriContainer[] }>('ListContainers', {
    filter: { labelSelector: { [labels.podNamespace]: namespace, [labels.podName]: pod, [labels.containerName]: container } },
  });
  return res.containers.sort((a, b) => b.metadata.attempt - a.metadata.attempt);
}

export class CriStreamingRuntime implements StreamingRuntime {
  constructor(private readonly cri: CriClient) {}

  private async runningContainer(namespace: string, pod: string, container: string): Promise<string> {
    const running = (await containerRuns(this.cri, namespace, pod, container)).find((c) => c.state === 'CONTAINER_RUNNING');
    if (!running) throw new StreamingError(404, `container not found (${JSON.stringify(container)})`);
    return running.id;
  }

  async exec(namespace: string, pod: string, container: string, command: string[], o: StreamOptions): Promise<string> {
    const containerId = await this.runningContainer(namespace, pod, container);
    const res = await this.cri.runtime<{ url: string }>('Exec', { containerId, cmd: command, tty: o.tty, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr && !o.tty });
    return res.url;
  }

  async attach(namespace: string, pod: string, container: string, o: StreamOptions): Promise<string> {
    const containerId = await this.runningContainer(namespace, pod, container);
    const res = await this.cri.runtime<{ url: string }>('Attach', { containerId, tty: o.tty, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr && !o.tty });
    return res.url;
  }

  async portForward(namespace: string, pod: string, ports: number[]): Promise<string> {
    const res = await this.cri.runtime<{ items: CriSandbox[] }>('ListPodSandbox', {
      filter: { labelSelector: { [labels.podNamespace]: namespace, [labels.podName]: pod } },
    });
    const ready = res.items.filter((s) => s.state === 'SANDBOX_READY').sort((a, b) => b.metadata.attempt - a.metadata.attempt)[0];
    if (!ready) throw new StreamingError(404, 'pod does not exist');
    const out = await this.cri.runtime<{ url: string }>('PortForward', { podSandboxId: ready.id, port: ports });
    return out.url;
  }
}
