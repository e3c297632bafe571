/**
 * Run as a child process by `selfSignedCertificate`: issues a serving certificate from a fresh CA
 * for the JSON request in argv[2] and prints `{certPem, keyPem}`. Kept apart so the X.509
 * library never loads into the long-running process that asked.
 */
import { createCertificateAuthority, issueServingCertificate, type ServingCertificateRequest } from './certificate-authority.js';

const req = JSON.parse(process.argv[2] ?? '{}') as ServingCertificateRequest;
const ca = await createCertificateAuthority(`${req.commonName}-ca`);
const cert = await issueServingCertificate(ca, req);
process.stdout.write(JSON.stringify({ certPem: cert.certPem, keyPem: cert.keyPem }));
