/**
 * The exec probe: the command runs in the container through CRI ExecSync with the probe's
 * timeout; exit code 0 is a success, any other a failure with the command's output (stdout then
 * stderr, at most 10 KiB); a timeout is a failure `command "…" timed out`; a runtime error means
 * the probe could not run (unknown).
 */
import type { EnvVar } from 'kubernetes-types/core/v1.js';
import * as grpc from '@grpc/grpc-js';
import { CriError, criBytes, type CriClient } from '../cri/cri-client.js';
import { goQuote, grpcStatusError } from './go-text.js';
import { MAX_PROBE_OUTPUT, type ProbeOutcome } from './probe-outcome.js';

/**
 * `$(VAR)` references in an exec probe's command, expanded from the container's env entries that
 * have a literal value (the kubelet's ExpandContainerCommandOnlyStatic): `$$` escapes a `$`, and
 * unknown references stay as written.
 */
export function expandCommand(command: string[], env: EnvVar[] | undefined): string[] {
  const vars = new Map<string, string>();
  for (const e of env ?? []) if (e.value !== undefined && !e.valueFrom) vars.set(e.name, e.value);
  return command.map((arg) => {
    let out = '';
    for (let i = 0; i < arg.length; i++) {
      const ch = arg[i];
      if (ch !== '$' || i + 1 >= arg.length) {
        out += ch;
        continue;
      }
      const next = arg[i + 1];
      if (next === '$') {
        out += '$';
        i++;
      } else if (next === '(') {
        const close = arg.indexOf(')', i + 2);
        if (close < 0) {
          out += arg.slice(i);
          break;
        }
        const name = arg.slice(i + 2, close);
        const value = vars.get(name);
        out += value ?? `$(${name})`;
        i = close;
      } else {
        out += '$';
      }
    }
    return out;
  });
}


/** Runs `command` in the container once. */
export async function execProbe(cri: CriClient, containerId: string, command: string[], timeoutSeconds: number): Promise<ProbeOutcome> {
  let res: { stdout?: unknown; stderr?: unknown; exitCode?: number };
  try {
    res = await cri.runtime('ExecSync', { containerId, cmd: command, timeout: String(timeoutSeconds) }, (timeoutSeconds + 10) * 1000);
  } catch (e) {
    const code = e instanceof CriError ? e.code : undefined;
    const details = e instanceof CriError ? e.details : e instanceof Error ? e.message : String(e);
    if (code === grpc.status.DEADLINE_EXCEEDED || /timeout .*exceeded/i.test(details)) {
      return { result: 'failure', output: `command ${goQuote(command.join(' '))} timed out` };
    }
    return { result: 'unknown', output: code === undefined ? details : grpcStatusError(code, details) };
  }
  const output = Buffer.concat([criBytes(res.stdout), criBytes(res.stderr)]).subarray(0, MAX_PROBE_OUTPUT).toString('utf8');
  return { result: (res.exitCode ?? 0) === 0 ? 'success' : 'failure', output };
}
