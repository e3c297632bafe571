/**
 * Container lifecycle hooks (postStart, preStop), as the kubelet's handlers.go runs them: exec
 * through CRI ExecSync, httpGet to the pod (only a failed exchange fails it, not the status
 * code), or sleep. A failure is reported with Kubernetes' message for the FailedPostStartHook /
 * FailedPreStopHook events.
 */
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Container, LifecycleHandler, Pod } from 'kubernetes-types/core/v1.js';
import { criBytes, type CriClient } from './cri/cri-client.js';
import { resolveContainerPort } from './probes/run-probe.js';
import { goQuote, joinHostPort } from './probes/go-text.js';

export interface HookTarget {
  cri: CriClient;
  pod: Pod;
  container: Container;
  containerId: string;
  podIP: string;
}

/** `name_namespace(uid)`, as the kubelet's format.Pod writes a pod in messages. */
function podLabel(pod: Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
}

const text = (v: unknown): string => criBytes(v).toString('utf8');

function httpGet(url: URL, host: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : request;
    const req = send(url, { method: 'GET', headers: { ...headers, host }, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('context deadline exceeded')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Runs one hook and resolves with the failure message, or undefined when it succeeded.
 * `timeoutSeconds` bounds exec and HTTP hooks (preStop: the grace period).
 */
export async function runLifecycleHook(handler: LifecycleHandler, t: HookTarget, timeoutSeconds: number): Promise<string | undefined> {
  const name = t.container.name ?? '';
  if (handler.exec) {
    const cmd = handler.exec.command ?? [];
    let output = '';
    let error: string | undefined;
    try {
      const res = await t.cri.runtime<{ stdout?: unknown; stderr?: unknown; exitCode?: number }>('ExecSync', { containerId: t.containerId, cmd, timeout: String(Math.max(0, Math.floor(timeoutSeconds))) }, (timeoutSeconds + 10) * 1000);
      output = text(res.stdout) + text(res.stderr);
      if ((res.exitCode ?? 0) !== 0) error = `command '${cmd.join(' ')}' exited with ${res.exitCode ?? 1}: ${text(res.stderr)}`;
    } catch (e) {
      error = (e as Error).message;
    }
    return error === undefined ? undefined : `Exec lifecycle hook ([${cmd.join(' ')}]) for Container ${goQuote(name)} in Pod ${goQuote(podLabel(t.pod))} failed - error: ${error}, message: ${goQuote(output)}`;
  }
  if (handler.httpGet) {
    const g = handler.httpGet;
    const port = resolveContainerPort(g.port, t.container);
    const path = g.path ?? '';
    const fail = (error: string): string => `HTTP lifecycle hook (${path}) for Container ${goQuote(name)} in Pod ${goQuote(podLabel(t.pod))} failed - error: ${error}`;
    if (typeof port !== 'number') return fail(port.error);
    const host = g.host || t.podIP;
    const scheme = (g.scheme ?? 'HTTP').toLowerCase();
    const url = new URL(`${scheme}://${joinHostPort(host, port)}${path.startsWith('/') ? path : `/${path}`}`);
    const headers: Record<string, string> = {};
    let hostHeader = joinHostPort(host, port);
    for (const h of g.httpHeaders ?? []) {
      if (h.name.toLowerCase() === 'host') hostHeader = h.value;
      else headers[h.name] = h.value;
    }
    try {
      await httpGet(url, hostHeader, headers, Math.max(1, timeoutSeconds) * 1000);
      return undefined;
    } catch (e) {
      return fail(`Get ${goQuote(url.toString())}: ${(e as Error).message}`);
    }
  }
  if (handler.sleep) {
    const ms = Math.max(0, Math.min(handler.sleep.seconds ?? 0, timeoutSeconds)) * 1000;
    await new Promise((r) => setTimeout(r, ms));
    return undefined;
  }
  return `Cannot run handler: invalid handler: ${JSON.stringify(handler)}`;
}
