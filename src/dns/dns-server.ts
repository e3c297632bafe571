/**
 * The cluster DNS server (what CoreDNS is in a Kubernetes cluster): answers cluster names from
 * `ClusterRecords` over UDP, authoritatively (NXDOMAIN for cluster names that do not exist), and
 * forwards every other name to the node's upstream resolvers, relaying their answer as is.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import * as packet from 'dns-packet';
import type { ClusterRecords, DnsAnswer, RecordType } from './cluster-records.js';

export interface DnsServerOptions {
  records: ClusterRecords;
  address: string;
  port: number;
  /** Upstream resolvers (`ip` or `ip:port`); default: the nameservers of /etc/resolv.conf. */
  upstreams?: string[];
  /** How long a forwarded query waits for its upstream. */
  forwardTimeoutMs?: number;
}

/** The nameservers of a resolv.conf (loopback ones too: systemd-resolved's 127.0.0.53 works from the node). */
export function resolvConfNameservers(path = '/etc/resolv.conf'): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((s): s is string => !!s);
  } catch {
    return [];
  }
}

/** Response codes, carried in the low four bits of the flags. */
const RCODE = { SERVFAIL: 2, NXDOMAIN: 3 } as const;

const answerable = new Set<string>(['A', 'AAAA', 'SRV', 'PTR', 'CNAME']);

function toPacketAnswer(a: DnsAnswer): packet.Answer {
  if (a.type === 'SRV') return { name: a.name, type: 'SRV', ttl: a.ttl, class: 'IN', data: a.data as packet.SrvAnswer['data'] };
  return { name: a.name, type: a.type, ttl: a.ttl, class: 'IN', data: a.data as string } as packet.Answer;
}

/**
 * A UDP reply over 512 bytes (a large headless Service) is cut to its header and question with
 * TC set, so the client asks again over TCP (RFC 1035 4.2.1; no EDNS0 here).
 */
function truncateForUdp(reply: Buffer): Buffer {
  if (reply.length <= 512) return reply;
  const p = packet.decode(reply);
  return packet.encode({ id: p.id, type: 'response', flags: (p.flags ?? 0) | packet.TRUNCATED_RESPONSE, questions: p.questions });
}

export class DnsServer {
  private socket: Socket | undefined;
  private tcp: Server | undefined;
  private readonly upstreams: Array<{ host: string; port: number }>;

  constructor(private readonly o: DnsServerOptions) {
    this.upstreams = (o.upstreams ?? resolvConfNameservers()).map((u) => {
      const m = /^(.*?)(?::(\d+))?$/.exec(u)!;
      return { host: m[1]!, port: Number(m[2] ?? 53) };
    });
  }

  /** Listens on UDP and TCP (the same port); resolves to the port. */
  async start(): Promise<number> {
    const socket = createSocket(this.o.address.includes(':') ? 'udp6' : 'udp4');
    this.socket = socket;
    socket.on('message', (msg, rinfo) => {
      void this.respond(msg).then((reply) => reply && socket.send(truncateForUdp(reply), rinfo.port, rinfo.address), () => undefined);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.o.port, this.o.address, () => resolve());
    });
    const port = socket.address().port;
    // TCP carries each message after a two-byte length (RFC 1035 4.2.2); a client may send several.
    const tcp = createServer((conn) => {
      let pending = Buffer.alloc(0);
      conn.on('data', (d: Buffer) => {
        pending = Buffer.concat([pending, d]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
          pending = pending.subarray(2 + msg.length);
          void this.respond(msg).then((reply) => {
            if (!reply || conn.destroyed) return;
            const len = Buffer.alloc(2);
            len.writeUInt16BE(reply.length);
            conn.write(Buffer.concat([len, reply]));
          }, () => undefined);
        }
      });
      conn.on('error', () => undefined);
      conn.setTimeout(10_000, () => conn.destroy());
    });
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, this.o.address, () => resolve());
    });
    return port;
  }

  /** The reply to one DNS message, or undefined when it is not a query worth answering. */
  async respond(msg: Buffer): Promise<Buffer | undefined> {
    let query: packet.Packet;
    try {
      query = packet.decode(msg);
    } catch {
      return undefined;
    }
    const question = query.questions?.[0];
    if (!question) return undefined;
    const type = question.type as string;
    const known = answerable.has(type);
    let result = this.o.records.lookup(question.name, known ? (type as RecordType) : 'A');
    // A cluster name asked for a type it has none of (MX, TXT …): an empty answer.
    if (!known && result.kind !== 'notCluster') result = { kind: 'answers', answers: [] };
    if (result.kind === 'notCluster') {
      const forwarded = await this.forward(msg);
      return forwarded ?? packet.encode({ id: query.id, type: 'response', flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | RCODE.SERVFAIL, questions: query.questions });
    }
    const rcode = result.kind === 'nxdomain' ? RCODE.NXDOMAIN : 0;
    const flags = packet.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & packet.RECURSION_DESIRED) | packet.RECURSION_AVAILABLE | rcode;
    return packet.encode({
      id: query.id,
      type: 'response',
      flags,
      questions: query.questions,
      answers: result.kind === 'answers' ? result.answers.map(toPacketAnswer) : [],
    });
  }

  /** Sends the query to each upstream in turn; the first answer wins. */
  private async forward(msg: Buffer): Promise<Buffer | undefined> {
    for (const up of this.upstreams) {
      const answer = await new Promise<Buffer | undefined>((resolve) => {
        const s = createSocket(up.host.includes(':') ? 'udp6' : 'udp4');
        const done = (b: Buffer | undefined): void => {
          clearTimeout(timer);
          s.close();
          resolve(b);
        };
        const timer = setTimeout(() => done(undefined), this.o.forwardTimeoutMs ?? 2000);
        s.on('message', (b) => done(b));
        s.on('error', () => done(undefined));
        s.send(msg, up.port, up.host);
      });
      if (answer) return answer;
    }
    return undefined;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    const tcp = this.tcp;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }
}
