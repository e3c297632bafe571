/**
 * The server name of a ClientHello, read from what real TLS clients (Node's, TLS 1.3 and 1.2)
 * send first: the name as asked (lowercased), none when the client sends none, "not yet" while the
 * record is incomplete, and none for bytes that are not TLS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { connect, type ConnectionOptions } from 'node:tls';
import { clientHelloServerName } from '../../../src/ingress/client-hello.js';

/** The first bytes a TLS client sends to a server that never answers. */
async function firstBytes(options: ConnectionOptions): Promise<Buffer> {
  const server = createServer();
  const received = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => (s.destroy(), resolve(d)))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port, ...options });
  client.on('error', () => undefined);
  const bytes = await received;
  client.destroy();
  server.close();
  return bytes;
}

test('the server name a TLS 1.3 and a TLS 1.2 client ask for, lowercased', async () => {
  assert.equal(clientHelloServerName(await firstBytes({ servername: 'Shop.Example.com' })), 'shop.example.com');
  assert.equal(clientHelloServerName(await firstBytes({ servername: 'a.example', maxVersion: 'TLSv1.2' })), 'a.example');
});

test('no name when the client sends none (as for an IP address), or the bytes are not TLS', async () => {
  assert.equal(clientHelloServerName(await firstBytes({})), null);
  assert.equal(clientHelloServerName(Buffer.from('GET / HTTP/1.1\r\nHost: a.example\r\n\r\n')), null);
  // A handshake record that holds no ClientHello.
  assert.equal(clientHelloServerName(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])), null);
});

test('not yet, until the whole first record has arrived', async () => {
  const hello = await firstBytes({ servername: 'a.example' });
  assert.equal(clientHelloServerName(hello.subarray(0, 3)), undefined);
  assert.equal(clientHelloServerName(hello.subarray(0, hello.length - 1)), undefined);
  assert.equal(clientHelloServerName(hello), 'a.example');
});

test('a record that claims more than it holds gives no name, and nothing is read past it', () => {
  // A ClientHello whose session-id length runs past the end of its record.
  const record = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x28, 0x01, 0x00, 0x00, 0x27, 0x03, 0x03, ...new Array<number>(32).fill(0), 0xff, 0x00]);
  assert.equal(clientHelloServerName(record), null);
});
