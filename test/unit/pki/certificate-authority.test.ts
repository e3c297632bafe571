import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  issueClientCertificate,
  loadCertificateAuthority,
  loadOrCreateCertificates,
} from '../../../src/pki/certificate-authority.js';

const DAY = 24 * 60 * 60 * 1000;
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'k8ts-pki-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FILES = [
  'server-ca.crt',
  'server-ca.key',
  'client-ca.crt',
  'client-ca.key',
  'serving-kube-apiserver.crt',
  'serving-kube-apiserver.key',
  'client-admin.crt',
  'client-admin.key',
];

function days(cert: X509Certificate): number {
  return (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY;
}

test('creates two CAs, a serving and an admin certificate under server/tls with k3s names and modes', async () => {
  const dataDir = tempDir();
  const certs = await loadOrCreateCertificates(dataDir, { hostnames: ['k8ts.example.com'], ips: ['192.0.2.10'] });
  const tls = join(dataDir, 'server', 'tls');
  assert.equal(certs.dir, tls);
  assert.deepEqual([...certs.generated].sort(), [...FILES].sort());
  for (const f of FILES) {
    const mode = statSync(join(tls, f)).mode & 0o777;
    assert.equal(mode, f.endsWith('.key') ? 0o600 : 0o644, `${f} has mode ${mode.toString(8)}`);
  }
  assert.equal(readFileSync(join(tls, 'client-admin.crt'), 'utf8'), certs.admin.certPem);

  const serverCa = new X509Certificate(certs.serverCa.certPem);
  const clientCa = new X509Certificate(certs.clientCa.certPem);
  const serving = new X509Certificate(certs.serving.certPem);
  const admin = new X509Certificate(certs.admin.certPem);

  assert.ok(serverCa.ca && clientCa.ca);
  assert.notEqual(serverCa.fingerprint256, clientCa.fingerprint256);
  assert.ok(Math.abs(days(serverCa) - 3650) < 1, `CA valid ${days(serverCa)} days`);
  assert.ok(Math.abs(days(serving) - 365) < 1, `serving valid ${days(serving)} days`);
  assert.ok(Math.abs(days(admin) - 365) < 1);

  // Chain checks, as `openssl verify` would make them.
  assert.ok(serving.checkIssued(serverCa) && serving.verify(serverCa.publicKey));
  assert.ok(admin.checkIssued(clientCa) && admin.verify(clientCa.publicKey));
  assert.ok(!admin.verify(serverCa.publicKey), 'admin cert must not verify against the server CA');
  assert.ok(serverCa.verify(serverCa.publicKey), 'CA is self-signed');
  assert.ok(serving.checkPrivateKey(createPrivateKey(certs.serving.keyPem)));
  assert.ok(admin.checkPrivateKey(createPrivateKey(certs.admin.keyPem)));

  assert.equal(serving.publicKey.asymmetricKeyType, 'ec');
  assert.equal(serving.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.deepEqual(serving.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.deepEqual(admin.keyUsage, ['1.3.6.1.5.5.7.3.2']);

  for (const name of ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost', hostname().toLowerCase(), 'k8ts.example.com']) {
    assert.ok(serving.checkHost(name, { subject: 'never' }), `serving cert names ${name}`);
  }
  for (const ip of ['127.0.0.1', '::1', '10.43.0.1', '192.0.2.10']) assert.ok(serving.checkIP(ip), `serving cert names ${ip}`);
  assert.equal(serving.checkHost('other.example.com', { subject: 'never' }), undefined);

  assert.match(admin.subject, /^O=system:masters\nCN=system:admin$/);
});

test('restart reuses every file unchanged', async () => {
  const dataDir = tempDir();
  const opts = { hostnames: ['a.example'], ips: [] };
  const first = await loadOrCreateCertificates(dataDir, opts);
  const second = await loadOrCreateCertificates(dataDir, opts);
  assert.deepEqual(second.generated, []);
  assert.equal(second.serverCa.certPem, first.serverCa.certPem);
  assert.equal(second.clientCa.keyPem, first.clientCa.keyPem);
  assert.equal(second.serving.certPem, first.serving.certPem);
  assert.equal(second.admin.certPem, first.admin.certPem);
});

test('a newly requested name or IP reissues only the serving certificate', async () => {
  const dataDir = tempDir();
  const first = await loadOrCreateCertificates(dataDir, { hostnames: [], ips: [] });
  const second = await loadOrCreateCertificates(dataDir, { hostnames: ['new.example', '203.0.113.9'], ips: ['198.51.100.4'], serviceCidr: '10.96.0.0/12' });
  assert.deepEqual(second.generated, ['serving-kube-apiserver.crt', 'serving-kube-apiserver.key']);
  assert.equal(second.serverCa.certPem, first.serverCa.certPem);
  assert.equal(second.admin.certPem, first.admin.certPem);
  const serving = new X509Certificate(second.serving.certPem);
  assert.ok(serving.checkHost('new.example', { subject: 'never' }));
  assert.ok(serving.checkIP('198.51.100.4'));
  assert.ok(serving.checkIP('203.0.113.9'), 'an IP given as a hostname is named as an IP');
  assert.ok(serving.checkIP('10.96.0.1'));
  // A subset of what the certificate already names needs nothing new.
  const third = await loadOrCreateCertificates(dataDir, { hostnames: ['new.example'], ips: [], serviceCidr: '10.96.0.0/12' });
  assert.deepEqual(third.generated, []);
});

test('leaf certificates near expiry are renewed at start; CAs are kept', async () => {
  const dataDir = tempDir();
  const first = await loadOrCreateCertificates(dataDir, { hostnames: [], ips: [] });
  const later = new Date(Date.now() + 300 * DAY);
  const second = await loadOrCreateCertificates(dataDir, { hostnames: [], ips: [], now: () => later });
  assert.deepEqual([...second.generated].sort(), ['client-admin.crt', 'client-admin.key', 'serving-kube-apiserver.crt', 'serving-kube-apiserver.key']);
  assert.equal(second.serverCa.certPem, first.serverCa.certPem);
  assert.ok(Date.parse(new X509Certificate(second.admin.certPem).validTo) > later.getTime() + 300 * DAY);
});

test('a replaced client CA makes the admin certificate be reissued by it', async () => {
  const dataDir = tempDir();
  const tls = join(dataDir, 'server', 'tls');
  const first = await loadOrCreateCertificates(dataDir, { hostnames: [], ips: [] });
  unlinkSync(join(tls, 'client-ca.crt'));
  unlinkSync(join(tls, 'client-ca.key'));
  const second = await loadOrCreateCertificates(dataDir, { hostnames: [], ips: [] });
  assert.deepEqual([...second.generated].sort(), ['client-admin.crt', 'client-admin.key', 'client-ca.crt', 'client-ca.key']);
  assert.notEqual(second.admin.certPem, first.admin.certPem);
  const admin = new X509Certificate(second.admin.certPem);
  assert.ok(admin.verify(new X509Certificate(second.clientCa.certPem).publicKey));
});

test('half a CA on disk is an error, never silently replaced', async () => {
  const dataDir = tempDir();
  await loadOrCreateCertificates(dataDir, { hostnames: [], ips: [] });
  unlinkSync(join(dataDir, 'server', 'tls', 'server-ca.key'));
  await assert.rejects(loadOrCreateCertificates(dataDir, { hostnames: [], ips: [] }), /server-ca/);
  assert.ok(existsSync(join(dataDir, 'server', 'tls', 'server-ca.crt')));
});

test('a tampered serving key is detected and the pair reissued', async () => {
  const dataDir = tempDir();
  const tls = join(dataDir, 'server', 'tls');
  const first = await loadOrCreateCertificates(dataDir, { hostnames: [], ips: [] });
  writeFileSync(join(tls, 'serving-kube-apiserver.key'), first.admin.keyPem);
  const second = await loadOrCreateCertificates(dataDir, { hostnames: [], ips: [] });
  assert.deepEqual(second.generated, ['serving-kube-apiserver.crt', 'serving-kube-apiserver.key']);
  assert.ok(new X509Certificate(second.serving.certPem).checkPrivateKey(createPrivateKey(second.serving.keyPem)));
});

test('issueClientCertificate: CN is the user, each O a group, validity in days, signed by the CA', async () => {
  const ca = await createCertificateAuthority('test-ca');
  const issued = await issueClientCertificate(ca, { commonName: 'system:node:worker-1', organizations: ['system:nodes', 'extra'], days: 30 });
  const cert = new X509Certificate(issued.certPem);
  assert.equal(cert.subject, 'O=system:nodes\nO=extra\nCN=system:node:worker-1');
  assert.ok(Math.abs(days(cert) - 30) < 1);
  assert.ok(cert.verify(createPublicKey(ca.certPem)));
  assert.equal(cert.ca, false);
  const other = await createCertificateAuthority('other-ca');
  assert.ok(!cert.verify(createPublicKey(other.certPem)));
});

test('loadCertificateAuthority round-trips PEM and refuses a key that is not the CA\'s', async () => {
  const ca = await createCertificateAuthority('round-trip');
  const loaded = await loadCertificateAuthority(ca.certPem, ca.keyPem);
  const issued = await issueClientCertificate(loaded, { commonName: 'u' });
  assert.ok(new X509Certificate(issued.certPem).verify(createPublicKey(ca.certPem)));
  const other = await createCertificateAuthority('other');
  await assert.rejects(loadCertificateAuthority(ca.certPem, other.keyPem), /does not match/);
  await assert.rejects(loadCertificateAuthority(issued.certPem, issued.keyPem), /not a CA/);
  // A k3s-style SEC1 `EC PRIVATE KEY` is read too.
  const sec1 = createPrivateKey(ca.keyPem).export({ type: 'sec1', format: 'pem' }).toString();
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  const fromSec1 = await issueClientCertificate(await loadCertificateAuthority(ca.certPem, sec1), { commonName: 'v' });
  assert.ok(new X509Certificate(fromSec1.certPem).verify(createPublicKey(ca.certPem)));
});

test('openssl verify accepts the chains with the TLS purposes', async (t) => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    t.skip('openssl not installed');
    return;
  }
  const dataDir = tempDir();
  await loadOrCreateCertificates(dataDir, { hostnames: [], ips: [] });
  const tls = join(dataDir, 'server', 'tls');
  const run = (...args: string[]): string => execFileSync('openssl', ['verify', ...args], { cwd: tls, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(run('-CAfile', 'server-ca.crt', '-purpose', 'sslserver', 'serving-kube-apiserver.crt'), /: OK/);
  assert.match(run('-CAfile', 'client-ca.crt', '-purpose', 'sslclient', 'client-admin.crt'), /: OK/);
  assert.throws(() => run('-CAfile', 'server-ca.crt', 'client-admin.crt'));
});
