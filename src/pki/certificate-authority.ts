/**
 * The cluster's certificate authorities and the certificates they issue, laid out on disk as
 * k3s lays out `server/tls/`:
 *
 *   server-ca.crt/.key              signs serving certificates (what clients trust)
 *   client-ca.crt/.key              signs client certificates (what the apiserver trusts)
 *   serving-kube-apiserver.crt/.key the apiserver's TLS certificate
 *   client-admin.crt/.key           CN=system:admin, O=system:masters (the kubeconfig's user)
 *
 * Two CAs, as k3s has, so that a serving certificate can never pass as a client identity.
 */
import { X509Certificate as NodeX509Certificate, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import * as x509 from './x509.js';
import { exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem, signingAlgorithmOfKey } from './key-pair.js';
import { firstServiceIp } from './service-ip.js';

const DAY_MS = 24 * 60 * 60 * 1000;
export const CA_VALIDITY_DAYS = 3650;
export const LEAF_VALIDITY_DAYS = 365;
/** Like k3s, leaf certificates that expire within this many days are reissued at start. */
export const RENEW_BEFORE_DAYS = 90;
/** Backdating tolerates clocks of other machines that run a little behind. */
const BACKDATE_MS = 60 * 60 * 1000;

/** A CA able to sign: its certificate and private key, both parsed and as PEM. */
export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
  certificate: x509.X509Certificate;
  privateKey: CryptoKey;
}

/** A leaf certificate with its private key, as PEM. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

export interface ClientCertificateRequest {
  /** Becomes the user name (`system:admin`, `system:node:<name>`, …). */
  commonName: string;
  /** Become the user's groups (`system:masters`, `system:nodes`, …). */
  organizations?: string[];
  /** Validity; defaults to one year. */
  days?: number;
  /** Issue time; defaults to now. */
  now?: Date;
}

export interface ServingCertificateRequest {
  commonName: string;
  dnsNames: string[];
  ips: string[];
  days?: number;
  now?: Date;
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  // A positive serial with a non-zero first byte keeps every DER encoder happy.
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function subject(commonName: string, organizations: string[] = []): x509.JsonName {
  return [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }];
}

function validity(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + days * DAY_MS) };
}

function toPem(cert: x509.X509Certificate): string {
  return cert.toString('pem') + '\n';
}

/** A new self-signed CA with an ECDSA P-256 key, valid ten years unless told otherwise. */
export async function createCertificateAuthority(commonName: string, opts: { days?: number; now?: Date } = {}): Promise<CertificateAuthority> {
  const keys = await generateKeyPair();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: subject(commonName),
    ...validity(opts.now ?? new Date(), opts.days ?? CA_VALIDITY_DAYS),
    keys,
    signingAlgorithm: signingAlgorithmOfKey(keys.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: toPem(certificate), keyPem: await exportPrivateKeyPem(keys.privateKey), certificate, privateKey: keys.privateKey };
}

/** Parses a CA from PEM; throws if it is not a CA or the key does not belong to it. */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const node = new NodeX509Certificate(certPem);
  if (!node.ca) throw new Error(`certificate ${node.subject.replace(/\n/g, ', ')} is not a CA`);
  if (!node.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('CA private key does not match its certificate');
  return { certPem, keyPem, certificate: new x509.X509Certificate(certPem), privateKey: await importPrivateKeyPem(keyPem) };
}

async function issue(
  ca: CertificateAuthority,
  name: x509.JsonName,
  days: number,
  now: Date,
  usages: string[],
  extra: x509.Extension[],
): Promise<IssuedCertificate> {
  const keys = await generateKeyPair();
  const caKeyId = ca.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const aki = caKeyId ? new x509.AuthorityKeyIdentifierExtension(caKeyId) : await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: ca.certificate.subjectName,
    ...validity(now, days),
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: signingAlgorithmOfKey(ca.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(usages),
      aki,
      ...extra,
    ],
  });
  return { certPem: toPem(certificate), keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/** A client certificate (extended key usage clientAuth): CN is the user, each O a group. */
export async function issueClientCertificate(ca: CertificateAuthority, req: ClientCertificateRequest): Promise<IssuedCertificate> {
  return issue(ca, subject(req.commonName, req.organizations), req.days ?? LEAF_VALIDITY_DAYS, req.now ?? new Date(), [x509.ExtendedKeyUsage.clientAuth], []);
}

/** A TLS serving certificate (extended key usage serverAuth) naming `dnsNames` and `ips`. */
export async function issueServingCertificate(ca: CertificateAuthority, req: ServingCertificateRequest): Promise<IssuedCertificate> {
  const names: x509.JsonGeneralName[] = [
    ...req.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...req.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  return issue(ca, subject(req.commonName), req.days ?? LEAF_VALIDITY_DAYS, req.now ?? new Date(), [x509.ExtendedKeyUsage.serverAuth], [
    new x509.SubjectAlternativeNameExtension(names),
  ]);
}

/** What the serving certificate must name besides the fixed in-cluster names. */
export interface CertificateOptions {
  /** Extra names (k3s' `--tls-san`): DNS names, or IPs which are named as IPs; the machine's hostname is always added. */
  hostnames: string[];
  /** Extra IP addresses; 127.0.0.1, ::1 and the first service IP are always added. */
  ips: string[];
  /** The service CIDR whose first address is the `kubernetes` Service's ClusterIP; default 10.43.0.0/16. */
  serviceCidr?: string;
  /** The clock; injected by tests to exercise renewal. */
  now?: () => Date;
}

/** The DNS names and IPs the apiserver's serving certificate names for `opts`, deduplicated. */
export function servingNames(opts: CertificateOptions): { dnsNames: string[]; ips: string[] } {
  // Like k3s' --tls-san, a "hostname" that is an IP address is named as an IP.
  const given = opts.hostnames.map((n) => n.trim());
  const dnsNames = [
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
    'localhost',
    osHostname(),
    ...given.filter((n) => isIP(n) === 0),
  ].map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  const ips = ['127.0.0.1', '::1', firstServiceIp(opts.serviceCidr ?? '10.43.0.0/16'), ...opts.ips, ...given.filter((n) => isIP(n) !== 0)].map((i) => i.trim()).filter((i) => i !== '');
  return { dnsNames: [...new Set(dnsNames)], ips: [...new Set(ips)] };
}

/** Everything `loadOrCreateCertificates` keeps under `<dataDir>/server/tls/`. */
export interface ClusterCertificates {
  /** `<dataDir>/server/tls`. */
  dir: string;
  serverCa: CertificateAuthority;
  clientCa: CertificateAuthority;
  /** The apiserver's serving certificate, signed by `serverCa`. */
  serving: IssuedCertificate;
  /** `system:admin` in `system:masters`, signed by `clientCa`. */
  admin: IssuedCertificate;
  /** Base names of the files written by this call (empty on a plain restart). */
  generated: string[];
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes through a temporary file and a rename, so a crash never leaves half a key. */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

async function loadOrCreateCa(dir: string, base: string, commonName: string, now: Date, generated: string[]): Promise<CertificateAuthority> {
  const crtPath = join(dir, `${base}.crt`);
  const keyPath = join(dir, `${base}.key`);
  const [certPem, keyPem] = await Promise.all([readIfExists(crtPath), readIfExists(keyPath)]);
  if (certPem !== undefined && keyPem !== undefined) {
    await chmod(keyPath, 0o600);
    return loadCertificateAuthority(certPem, keyPem);
  }
  // Half a CA is never silently replaced: every certificate it issued would stop working.
  if (certPem !== undefined || keyPem !== undefined) throw new Error(`${base}: found only one of ${crtPath} and ${keyPath}`);
  const ca = await createCertificateAuthority(`${commonName}@${Math.floor(now.getTime() / 1000)}`, { now });
  await writeAtomic(keyPath, ca.keyPem, 0o600);
  await writeAtomic(crtPath, ca.certPem, 0o644);
  generated.push(`${base}.crt`, `${base}.key`);
  return ca;
}

/** Whether an existing leaf may be kept: parses, belongs to its key, was issued by `ca`, is not near expiry and passes `accept`. */
function leafStillGood(certPem: string, keyPem: string, ca: CertificateAuthority, now: Date, accept: (c: NodeX509Certificate) => boolean): boolean {
  try {
    const cert = new NodeX509Certificate(certPem);
    const caCert = new NodeX509Certificate(ca.certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return false;
    if (!cert.checkIssued(caCert) || !cert.verify(createPublicKey(ca.certPem))) return false;
    if (new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return false;
    if (new Date(cert.validFrom).getTime() > now.getTime() + BACKDATE_MS) return false;
    return accept(cert);
  } catch {
    return false;
  }
}

async function loadOrIssueLeaf(
  dir: string,
  base: string,
  ca: CertificateAuthority,
  now: Date,
  accept: (c: NodeX509Certificate) => boolean,
  create: () => Promise<IssuedCertificate>,
  generated: string[],
): Promise<IssuedCertificate> {
  const crtPath = join(dir, `${base}.crt`);
  const keyPath = join(dir, `${base}.key`);
  const [certPem, keyPem] = await Promise.all([readIfExists(crtPath), readIfExists(keyPath)]);
  if (certPem !== undefined && keyPem !== undefined && leafStillGood(certPem, keyPem, ca, now, accept)) {
    await chmod(keyPath, 0o600);
    return { certPem, keyPem };
  }
  const issued = await create();
  await writeAtomic(keyPath, issued.keyPem, 0o600);
  await writeAtomic(crtPath, issued.certPem, 0o644);
  generated.push(`${base}.crt`, `${base}.key`);
  return issued;
}

function hasSubject(cert: NodeX509Certificate, commonName: string, organizations: string[]): boolean {
  const name = new x509.X509Certificate(cert.raw).subjectName;
  const cns = name.getField('CN');
  const os = name.getField('O');
  return cns.length === 1 && cns[0] === commonName && os.length === organizations.length && organizations.every((o) => os.includes(o));
}

/**
 * Loads the cluster's CAs and certificates from `<dataDir>/server/tls/`, creating what is
 * missing. On restart everything is reused, except leaves that are near expiry, no longer
 * signed by the CA on disk, or (for the serving certificate) do not name every requested
 * host and IP: those are reissued. Keys are written 0600, certificates 0644.
 */
export async function loadOrCreateCertificates(dataDir: string, opts: CertificateOptions): Promise<ClusterCertificates> {
  const dir = join(dataDir, 'server', 'tls');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const now = (opts.now ?? (() => new Date()))();
  const generated: string[] = [];

  const serverCa = await loadOrCreateCa(dir, 'server-ca', 'k8ts-server-ca', now, generated);
  const clientCa = await loadOrCreateCa(dir, 'client-ca', 'k8ts-client-ca', now, generated);

  const names = servingNames(opts);
  const serving = await loadOrIssueLeaf(
    dir,
    'serving-kube-apiserver',
    serverCa,
    now,
    (cert) =>
      names.dnsNames.every((n) => cert.checkHost(n, { subject: 'never', wildcards: false }) !== undefined) &&
      names.ips.every((ip) => cert.checkIP(ip) !== undefined),
    () => issueServingCertificate(serverCa, { commonName: 'kube-apiserver', ...names, now }),
    generated,
  );

  const admin = await loadOrIssueLeaf(
    dir,
    'client-admin',
    clientCa,
    now,
    (cert) => hasSubject(cert, 'system:admin', ['system:masters']),
    () => issueClientCertificate(clientCa, { commonName: 'system:admin', organizations: ['system:masters'], now }),
    generated,
  );

  return { dir, serverCa, clientCa, serving, admin, generated };
}
