/**
 * SPDY/3.1 framing, as Kubernetes speaks it for exec, attach and port-forward (moby/spdystream on
 * both ends: kubectl, the kubelet, containerd's streaming server). Written here rather than taken
 * from npm because spdystream implements no flow control — it neither sends nor honours
 * WINDOW_UPDATE — so a spec-complete SPDY library stalls after its first 64 KiB window; this
 * session does what spdystream does: streams, header blocks, FIN half-close, RST, PING, GOAWAY.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { constants as zc, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

const VERSION = 3;
const enum FrameType {
  SynStream = 1,
  SynReply = 2,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  Headers = 8,
  WindowUpdate = 9,
}
const FLAG_FIN = 0x01;
/** Data frames are cut to this size; spdystream reads each frame whole into memory. */
const MAX_DATA = 32 * 1024;

/** RST_STREAM status codes (SPDY/3 §2.6.2). */
export const RstStatus = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, internalError: 6 } as const;

/**
 * The SPDY/3 header-compression dictionary (§2.6.10.1): the length-prefixed words, then the tail
 * of status lines, dates and media types.
 */
const dictionaryWords = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'allow',
  'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5',
  'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer', 'retry-after',
  'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK',
  'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
];
const dictionaryTail =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden404 Not Found' +
  '500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=' +
  'gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

export const headerDictionary: Buffer = Buffer.concat([
  ...dictionaryWords.map((w) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    return Buffer.concat([len, Buffer.from(w, 'latin1')]);
  }),
  Buffer.from(dictionaryTail, 'latin1'),
]);

/** Header names are lower case on the wire; several values of one name are NUL-joined. */
export type SpdyHeaders = Record<string, string>;

export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = {};
  let at = 0;
  const count = block.readUInt32BE(at);
  at += 4;
  for (let i = 0; i < count; i++) {
    const nl = block.readUInt32BE(at);
    const name = block.subarray(at + 4, at + 4 + nl).toString('utf8').toLowerCase();
    at += 4 + nl;
    const vl = block.readUInt32BE(at);
    headers[name] = block.subarray(at + 4, at + 4 + vl).toString('utf8');
    at += 4 + vl;
  }
  return headers;
}

/** One zlib context for a direction of the connection: every header block continues it. */
class ZlibContext {
  private chain: Promise<unknown> = Promise.resolve();
  constructor(private readonly z: Deflate | Inflate) {
    z.on('error', () => undefined);
  }

  run(input: Buffer): Promise<Buffer> {
    const step = this.chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const out: Buffer[] = [];
          const onData = (c: Buffer): void => void out.push(c);
          const onError = (e: Error): void => {
            this.z.off('data', onData);
            reject(e);
          };
          this.z.on('data', onData);
          this.z.once('error', onError);
          this.z.write(input);
          this.z.flush(zc.Z_SYNC_FLUSH, () => {
            this.z.off('data', onData);
            this.z.off('error', onError);
            resolve(Buffer.concat(out));
          });
        }),
    );
    this.chain = step.catch(() => undefined);
    return step;
  }

  close(): void {
    this.z.destroy();
  }
}

/** One stream of a session: readable through 'data'/'end' events, writable with write/end. */
export class SpdyStream extends EventEmitter {
  /** Set when the peer's SYN_REPLY (for ours) arrived or our reply (for theirs) was sent. */
  private replied = false;
  private readonly pending: Array<{ data: Buffer; fin: boolean }> = [];
  localClosed = false;
  remoteClosed = false;
  private resetDone = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: SpdyHeaders,
  ) {
    super();
  }

  /** Writes data; before the stream is replied to it is held back (spdystream drops early data). */
  write(data: Buffer | string): void {
    if (this.localClosed || this.resetDone) return;
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (!buf.length) return;
    if (!this.replied) this.pending.push({ data: buf, fin: false });
    else this.session.sendData(this.id, buf, false);
  }

  /** Half-closes our side (a FIN), as closing stdin does. */
  end(): void {
    if (this.localClosed || this.resetDone) return;
    this.localClosed = true;
    if (!this.replied) this.pending.push({ data: Buffer.alloc(0), fin: true });
    else this.session.sendData(this.id, Buffer.alloc(0), true);
    this.maybeFinished();
  }

  /** Aborts the stream (RST_STREAM). */
  reset(status: number = RstStatus.cancel): void {
    if (this.resetDone) return;
    this.resetDone = true;
    this.session.sendReset(this.id, status);
    this.gone();
  }

  /** Answers a stream the peer opened; data written before is sent after it. */
  reply(headers: SpdyHeaders = {}): void {
    if (this.replied) return;
    this.session.sendReply(this.id, headers);
    this.markReplied();
  }

  /** @internal */
  markReplied(): void {
    this.replied = true;
    for (const p of this.pending.splice(0)) this.session.sendData(this.id, p.data, p.fin);
    this.emit('reply');
  }

  /** @internal */
  isReplied(): boolean {
    return this.replied;
  }

  /** @internal */
  remoteData(data: Buffer, fin: boolean): void {
    if (this.remoteClosed) return;
    if (data.length) this.emit('data', data);
    if (fin) {
      this.remoteClosed = true;
      this.emit('end');
      this.maybeFinished();
    }
  }

  /** @internal the peer reset it, or the session ended. */
  gone(): void {
    if (!this.remoteClosed) {
      this.remoteClosed = true;
      this.emit('end');
    }
    this.localClosed = true;
    this.session.forget(this.id);
    this.emit('close');
  }

  private maybeFinished(): void {
    if (this.localClosed && this.remoteClosed) {
      this.session.forget(this.id);
      this.emit('close');
    }
  }
}

interface ParsedFrame {
  control: boolean;
  type: number;
  streamId: number;
  flags: number;
  payload: Buffer;
}

/**
 * A SPDY/3.1 connection over an upgraded socket. The client opens odd stream ids, the server
 * even ones. Events: 'stream' (a stream the peer opened; call `reply()`), 'close'.
 */
export class SpdySession extends EventEmitter {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly waiting = new Map<number, { resolve: (s: SpdyStream) => void; reject: (e: Error) => void }>();
  private nextId: number;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly compress = new ZlibContext(createDeflate({ dictionary: headerDictionary }));
  private readonly decompress = new ZlibContext(createInflate({ dictionary: headerDictionary }));
  /** Frames go out in order: a header block must be compressed before the frames after it. */
  private outbound: Promise<void> = Promise.resolve();
  /** Frames are handled in order: header blocks share one inflate context. */
  private inbound: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: Duplex,
    private readonly role: 'client' | 'server',
  ) {
    super();
    this.nextId = role === 'client' ? 1 : 2;
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('end', () => this.shutdown());
    socket.on('close', () => this.shutdown());
    socket.on('error', () => this.shutdown());
  }

  /** Opens a stream and resolves once the peer replied to it. */
  openStream(headers: SpdyHeaders, fin = false): Promise<SpdyStream> {
    if (this.closed) return Promise.reject(new Error('SPDY connection is closed'));
    const id = this.nextId;
    this.nextId += 2;
    const stream = new SpdyStream(this, id, headers);
    this.streams.set(id, stream);
    if (fin) stream.localClosed = true;
    const block = encodeHeaderBlock(headers);
    this.enqueue(async () => {
      const compressed = await this.compress.run(block);
      const body = Buffer.alloc(10);
      body.writeUInt32BE(id & 0x7fffffff, 0);
      body.writeUInt32BE(0, 4);
      body.writeUInt8(0, 8);
      body.writeUInt8(0, 9);
      return controlFrame(FrameType.SynStream, fin ? FLAG_FIN : 0, Buffer.concat([body, compressed]));
    });
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  /** @internal */
  sendReply(id: number, headers: SpdyHeaders): void {
    const block = encodeHeaderBlock(headers);
    this.enqueue(async () => {
      const compressed = await this.compress.run(block);
      const body = Buffer.alloc(4);
      body.writeUInt32BE(id & 0x7fffffff);
      return controlFrame(FrameType.SynReply, 0, Buffer.concat([body, compressed]));
    });
  }

  /** @internal */
  sendData(id: number, data: Buffer, fin: boolean): void {
    if (!data.length) {
      this.enqueue(() => dataFrame(id, fin ? FLAG_FIN : 0, data));
      return;
    }
    for (let at = 0; at < data.length; at += MAX_DATA) {
      const part = data.subarray(at, at + MAX_DATA);
      const last = at + MAX_DATA >= data.length;
      this.enqueue(() => dataFrame(id, fin && last ? FLAG_FIN : 0, part));
    }
  }

  /** @internal */
  sendReset(id: number, status: number): void {
    const body = Buffer.alloc(8);
    body.writeUInt32BE(id & 0x7fffffff, 0);
    body.writeUInt32BE(status, 4);
    this.enqueue(() => controlFrame(FrameType.RstStream, 0, body));
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  /** Sends GOAWAY and ends the socket once what was queued is written. */
  close(): void {
    if (this.closed) return;
    const body = Buffer.alloc(8);
    body.writeUInt32BE(0, 0);
    body.writeUInt32BE(0, 4);
    this.enqueue(() => controlFrame(FrameType.GoAway, 0, body));
    void this.outbound.then(() => this.socket.end());
    this.shutdown();
  }

  /** Resolves when everything queued so far has been handed to the socket. */
  flushed(): Promise<void> {
    return this.outbound;
  }

  private enqueue(build: () => Buffer | Promise<Buffer>): void {
    this.outbound = this.outbound.then(async () => {
      const frame = await build();
      if (this.socket.destroyed || this.socket.writableEnded) return;
      if (!this.socket.write(frame)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            this.socket.off('drain', done);
            this.socket.off('close', done);
            resolve();
          };
          this.socket.on('drain', done);
          this.socket.on('close', done);
        });
      }
    }).catch(() => undefined);
  }

  private received(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.buffer.length >= 8) {
      const length = this.buffer.readUInt32BE(4) & 0xffffff;
      if (this.buffer.length < 8 + length) break;
      const first = this.buffer.readUInt32BE(0);
      const flags = this.buffer.readUInt8(4);
      const payload = this.buffer.subarray(8, 8 + length);
      this.buffer = this.buffer.subarray(8 + length);
      const control = (first & 0x80000000) !== 0;
      const frame: ParsedFrame = control
        ? { control, type: first & 0xffff, streamId: 0, flags, payload }
        : { control, type: 0, streamId: first & 0x7fffffff, flags, payload };
      this.inbound = this.inbound.then(() => this.handle(frame)).catch((e: unknown) => {
        this.emit('protocolError', e);
        this.socket.destroy();
      });
    }
  }

  private async handle(f: ParsedFrame): Promise<void> {
    if (!f.control) {
      this.streams.get(f.streamId)?.remoteData(Buffer.from(f.payload), (f.flags & FLAG_FIN) !== 0);
      return;
    }
    const p = f.payload;
    switch (f.type) {
      case FrameType.SynStream: {
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.decompress.run(p.subarray(10)));
        const stream = new SpdyStream(this, id, headers);
        this.streams.set(id, stream);
        this.emit('stream', stream);
        if (f.flags & FLAG_FIN) stream.remoteData(Buffer.alloc(0), true);
        return;
      }
      case FrameType.SynReply: {
        const id = p.readUInt32BE(0) & 0x7fffffff;
        await this.decompress.run(p.subarray(4));
        const stream = this.streams.get(id);
        if (!stream || stream.isReplied()) return;
        stream.markReplied();
        const w = this.waiting.get(id);
        this.waiting.delete(id);
        w?.resolve(stream);
        if (f.flags & FLAG_FIN) stream.remoteData(Buffer.alloc(0), true);
        return;
      }
      case FrameType.Headers: {
        const id = p.readUInt32BE(0) & 0x7fffffff;
        await this.decompress.run(p.subarray(4));
        if (f.flags & FLAG_FIN) this.streams.get(id)?.remoteData(Buffer.alloc(0), true);
        return;
      }
      case FrameType.RstStream: {
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const w = this.waiting.get(id);
        this.waiting.delete(id);
        w?.reject(new Error(`stream ${id} was reset (status ${p.readUInt32BE(4)})`));
        this.streams.get(id)?.gone();
        return;
      }
      case FrameType.Ping: {
        // Pings of the peer (odd ids from a client, even from a server) are echoed.
        const id = p.readUInt32BE(0);
        const peerOdd = this.role === 'server';
        if ((id % 2 === 1) === peerOdd) this.enqueue(() => controlFrame(FrameType.Ping, 0, Buffer.from(p)));
        return;
      }
      case FrameType.GoAway:
        this.shutdown();
        this.socket.end();
        return;
      case FrameType.Settings:
      case FrameType.WindowUpdate:
      default:
        // No flow control, as spdystream.
        return;
    }
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, w] of this.waiting) w.reject(new Error('SPDY connection closed'));
    this.waiting.clear();
    for (const s of [...this.streams.values()]) s.gone();
    void this.outbound.then(() => {
      this.compress.close();
      this.decompress.close();
    });
    this.emit('close');
  }
}

function controlFrame(type: FrameType, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE((((flags & 0xff) << 24) | (body.length & 0xffffff)) >>> 0, 4);
  return Buffer.concat([head, body]);
}

function dataFrame(id: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(id & 0x7fffffff, 0);
  head.writeUInt32BE((((flags & 0xff) << 24) | (data.length & 0xffffff)) >>> 0, 4);
  return Buffer.concat([head, data]);
}
