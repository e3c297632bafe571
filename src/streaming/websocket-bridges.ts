/**
 * What the API server does for kubectl 1.29+ WebSockets, as Kubernetes' StreamTranslatorProxy and
 * tunneling handler do: exec and attach arrive as WebSocket `v5.channel.k8s.io` and go on to the
 * kubelet as SPDY (remotecommand v4); port-forward arrives as SPDY tunneled in WebSocket binary
 * messages (`SPDY/3.1+portforward.k8s.io`) and goes on as plain SPDY bytes.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import type { SpdySession, SpdyStream } from './spdy-session.js';

/** Channel numbers of the `channel.k8s.io` protocols; 255 is v5's CLOSE signal. */
export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

export const V5_CHANNEL_PROTOCOL = 'v5.channel.k8s.io';
export const PORT_FORWARD_TUNNEL_PREFIX = 'SPDY/3.1+';
export const REMOTE_COMMAND_V4 = 'v4.channel.k8s.io';

export interface RemoteCommandStreams {
  error: SpdyStream;
  stdin?: SpdyStream;
  stdout?: SpdyStream;
  stderr?: SpdyStream;
  resize?: SpdyStream;
}

/**
 * Opens the remotecommand streams kubectl would open over SPDY (error first, then the ones the
 * request asks for), each answered by the far end before it is used.
 */
export async function openRemoteCommandStreams(spdy: SpdySession, o: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): Promise<RemoteCommandStreams> {
  const open = (streamType: string): Promise<SpdyStream> => spdy.openStream({ streamtype: streamType });
  const error = await open('error');
  const streams: RemoteCommandStreams = { error };
  if (o.stdin) streams.stdin = await open('stdin');
  if (o.stdout) streams.stdout = await open('stdout');
  if (o.stderr && !o.tty) streams.stderr = await open('stderr');
  if (o.tty) streams.resize = await open('resize');
  return streams;
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * Bridges a WebSocket v5 exec/attach session to SPDY remotecommand streams: stdin and resize
 * messages go in, stdout and stderr come out, and the command's Status (on the error stream)
 * is the last message before a normal close.
 */
export function bridgeRemoteCommand(ws: WebSocket, spdy: SpdySession, s: RemoteCommandStreams): void {
  const errorChunks: Buffer[] = [];
  let finished = false;
  const send = (channel: number, data: Buffer): void => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.of(channel), data]), { binary: true });
  };
  const finish = (): void => {
    if (finished) return;
    finished = true;
    const status = Buffer.concat(errorChunks);
    if (status.length) send(Channel.error, status);
    if (ws.readyState === ws.OPEN) ws.close(1000);
    spdy.close();
  };
  // Tell the client the streams are up, as the kubelet's WebSocket server does.
  send(s.stdout ? Channel.stdout : Channel.stderr, Buffer.alloc(0));
  s.stdout?.on('data', (d: Buffer) => send(Channel.stdout, d));
  s.stderr?.on('data', (d: Buffer) => send(Channel.stderr, d));
  s.error.on('data', (d: Buffer) => errorChunks.push(d));
  // The runtime writes the Status once the command and its output are done, then hangs up.
  s.error.on('end', () => {
    const outputs = [s.stdout, s.stderr].filter((x): x is SpdyStream => !!x && !x.remoteClosed);
    if (!outputs.length) return finish();
    let left = outputs.length;
    for (const o of outputs) o.once('end', () => --left === 0 && finish());
  });
  spdy.on('close', finish);
  ws.on('message', (raw: RawData) => {
    const data = asBuffer(raw);
    if (!data.length) return;
    const body = data.subarray(1);
    switch (data[0]) {
      case Channel.stdin:
        s.stdin?.write(body);
        break;
      case Channel.resize:
        s.resize?.write(body);
        break;
      case Channel.close:
        if (body[0] === Channel.stdin) s.stdin?.end();
        else if (body[0] === Channel.resize) s.resize?.end();
        break;
      default:
        break;
    }
  });
  ws.on('close', () => {
    if (!finished) {
      finished = true;
      spdy.close();
    }
  });
  ws.on('error', () => spdy.close());
}

/** Port-forward over WebSocket: each binary message is a piece of the SPDY byte stream. */
export function tunnel(ws: WebSocket, upstream: Duplex): void {
  ws.on('message', (raw: RawData) => {
    upstream.write(asBuffer(raw));
  });
  upstream.on('data', (d: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(d, { binary: true });
  });
  const closeWs = (): void => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  };
  upstream.on('end', closeWs);
  upstream.on('close', closeWs);
  upstream.on('error', closeWs);
  ws.on('close', () => upstream.destroy());
  ws.on('error', () => upstream.destroy());
}
