/**
 * One probe, run once, as pkg/kubelet/prober does: pick the handler (exec, httpGet, tcpSocket,
 * grpc), resolve named ports from the container's ports, address the pod's IP unless the probe
 * names a host, and retry up to three times only when the probe could not run at all.
 */
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import type { CriClient } from '../cri/cri-client.js';
import { execProbe, expandCommand } from './exec-probe.js';
import { grpcProbe } from './grpc-probe.js';
import { httpProbe } from './http-probe.js';
import { tcpProbe } from './tcp-probe.js';
import type { ProbeOutcome } from './probe-outcome.js';

export type { ProbeOutcome, ProbeResult } from './probe-outcome.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** Where a probe runs: the pod's IP for network probes, the container (through the CRI) for exec. */
export interface ProbeTarget {
  podIP: string;
  containerId: string;
  cri: CriClient;
  /** The pod and container the probe belongs to: named ports, env for exec commands, messages. */
  pod: Pod;
  container: Container;
}

const maxProbeRetries = 3;

/** A probe's port (number, or the name of one of the container's ports) as a number, or Go's error text. */
export function resolveContainerPort(port: number | string | undefined, container: Container): number | { error: string } {
  let n: number;
  if (typeof port === 'string') {
    const named = (container.ports ?? []).find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) {
      n = Number(port);
      if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 63) return { error: `strconv.Atoi: parsing ${JSON.stringify(port)}: value out of range` };
    } else return { error: `strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax` };
  } else n = port ?? 0;
  if (n > 0 && n < 65536) return n;
  return { error: `invalid port number: ${n}` };
}

async function runOnce(probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutSeconds = probe.timeoutSeconds ?? 1;
  const { container, pod } = target;
  if (probe.exec) {
    const command = expandCommand(probe.exec.command ?? [], container.env);
    return execProbe(target.cri, target.containerId, command, timeoutSeconds);
  }
  if (probe.httpGet) {
    const g = probe.httpGet;
    const port = resolveContainerPort(g.port, container);
    if (typeof port !== 'number') return { result: 'unknown', output: port.error };
    const scheme = (g.scheme ?? 'HTTP').toLowerCase() === 'https' ? 'https' : 'http';
    return httpProbe({
      scheme,
      host: g.host || target.podIP,
      port,
      path: g.path ?? '',
      headers: (g.httpHeaders ?? []).map((h) => [h.name, h.value]),
      timeoutMs: timeoutSeconds * 1000,
    });
  }
  if (probe.tcpSocket) {
    const port = resolveContainerPort(probe.tcpSocket.port, container);
    if (typeof port !== 'number') return { result: 'unknown', output: port.error };
    return tcpProbe(probe.tcpSocket.host || target.podIP, port, timeoutSeconds * 1000);
  }
  if (probe.grpc) {
    return grpcProbe(target.podIP, probe.grpc.port, probe.grpc.service ?? '', timeoutSeconds * 1000);
  }
  const m = pod.metadata ?? {};
  return { result: 'unknown', output: `missing probe handler for ${m.name ?? ''}_${m.namespace ?? ''}(${m.uid ?? ''}):${container.name}` };
}

/**
 * Runs `probe` once against `target`. `kind` only labels the attempt; the kubelet's events and
 * thresholds are the ProbeManager's business.
 */
export async function runProbe(kind: ProbeKind, probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  void kind;
  let outcome: ProbeOutcome = { result: 'unknown', output: '' };
  for (let i = 0; i < maxProbeRetries; i++) {
    outcome = await runOnce(probe, target);
    if (outcome.result !== 'unknown') return outcome;
  }
  return outcome;
}
