/**
 * Self-signed serving certificates for the node's own servers (the kubelet's HTTPS port, the
 * ingress controller's default certificate): made in a short-lived child process, because the
 * X.509 library costs a long-running process ~14 MB of memory it would never give back.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { IssuedCertificate, ServingCertificateRequest } from './certificate-authority.js';

const run = promisify(execFile);

export async function selfSignedCertificate(req: ServingCertificateRequest): Promise<IssuedCertificate> {
  const { stdout } = await run(process.execPath, [join(import.meta.dirname, 'self-signed-worker.js'), JSON.stringify(req)]);
  return JSON.parse(stdout) as IssuedCertificate;
}
