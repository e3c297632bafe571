import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { SpdySession, SpdyStream, headerDictionary, encodeHeaderBlock, decodeHeaderBlock } from '../../../src/streaming/spdy-session.js';

async function pair(): Promise<{ client: SpdySession; server: SpdySession; sockets: Socket[]; close(): Promise<void> }> {
  const accepted = new Promise<Socket>((resolve) => {
    const srv = createServer((s) => {
      srv.close();
      resolve(s);
    });
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      sockets.push(connect(port, '127.0.0.1'));
    });
  });
  const sockets: Socket[] = [];
  const serverSocket = await accepted;
  const client = new SpdySession(sockets[0]!, 'client');
  const server = new SpdySession(serverSocket, 'server');
  sockets.push(serverSocket);
  return {
    client,
    server,
    sockets,
    async close() {
      for (const s of sockets) s.destroy();
    },
  };
}

function collect(s: SpdyStream): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => resolve(Buffer.concat(parts)));
  });
}

test('the header dictionary is SPDY/3\'s: 1423 bytes, opening with the length-prefixed "options"', () => {
  assert.equal(headerDictionary.length, 1423);
  assert.deepEqual([...headerDictionary.subarray(0, 11)], [0, 0, 0, 7, ...Buffer.from('options')]);
  assert.ok(headerDictionary.subarray(-6).equals(Buffer.from('enq=0.')));
});

test('header blocks round-trip, names lower-cased', () => {
  assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock({ streamType: 'error', port: '8080' })), { streamtype: 'error', port: '8080' });
});

test('streams open with headers, carry data both ways and half-close with FIN', async () => {
  const p = await pair();
  try {
    const served: Array<Promise<void>> = [];
    p.server.on('stream', (s: SpdyStream) => {
      // Echo each stream's data back, upper-cased, once the client finished sending.
      served.push(
        collect(s).then((body) => {
          s.write(Buffer.from(`${s.headers['streamtype']}:${body.toString().toUpperCase()}`));
          s.end();
        }),
      );
      s.reply();
    });
    // Many streams: every header block continues one zlib context per direction.
    const results = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const s = await p.client.openStream({ streamtype: `s${i}`, requestid: String(i) });
        const answer = collect(s);
        s.write(`hello ${i}`);
        s.end();
        return (await answer).toString();
      }),
    );
    assert.deepEqual(results, Array.from({ length: 40 }, (_, i) => `s${i}:HELLO ${i}`));
  } finally {
    await p.close();
  }
});

test('a large write arrives whole and in order (cut into frames, no flow-control stall)', async () => {
  const p = await pair();
  try {
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const got = new Promise<Buffer>((resolve) => p.server.on('stream', (s: SpdyStream) => {
      s.reply();
      void collect(s).then(resolve);
    }));
    const s = await p.client.openStream({ streamtype: 'stdin' });
    s.write(big);
    s.end();
    assert.ok((await got).equals(big));
  } finally {
    await p.close();
  }
});

test('data written before the reply is held until it, a reset rejects the opener, closing ends every stream', async () => {
  const p = await pair();
  try {
    let n = 0;
    p.server.on('stream', (s: SpdyStream) => {
      if (n++ === 0) {
        s.write('early');
        setTimeout(() => s.reply(), 50);
        return;
      }
      s.reset();
    });
    const first = await p.client.openStream({ streamtype: 'a' });
    const data = await new Promise<string>((resolve) => first.once('data', (d: Buffer) => resolve(d.toString())));
    assert.equal(data, 'early');
    await assert.rejects(p.client.openStream({ streamtype: 'b' }), /reset/);
    const ended = new Promise<void>((resolve) => first.once('end', () => resolve()));
    p.server.close();
    await ended;
  } finally {
    await p.close();
  }
});
