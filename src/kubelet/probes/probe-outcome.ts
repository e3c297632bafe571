/** What one probe attempt concluded, in the kubelet's terms (pkg/probe and pkg/kubelet/prober/results). */
export type ProbeResult = 'success' | 'failure' | 'unknown';

/**
 * The result of running a probe once. `output` is what the kubelet puts in its events: the
 * response body or command output on success, the reason on failure (`HTTP probe failed with
 * statuscode: 500`), the error when the probe could not run at all (`result: 'unknown'`).
 */
export interface ProbeOutcome {
  result: ProbeResult;
  output: string;
  /** A success Kubernetes flags as a warning (an HTTP redirect to another host, not followed): a `ProbeWarning` event. */
  warning?: boolean;
}

/** The kubelet's probe output limit for response bodies and command output. */
export const MAX_PROBE_OUTPUT = 10 * 1024;

/** The User-Agent of HTTP and gRPC probes: `kube-probe/<major>.<minor>` of the Kubernetes version we speak. */
export const PROBE_USER_AGENT = 'kube-probe/1.32';
