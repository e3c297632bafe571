/**
 * Writes a `RuleSet` (the chains of one `ChainLayout`) into the kernel with one `iptables-restore --noflush` per sync, atomically per
 * table. After the first (full) sync only the chains whose rules changed are written and the
 * chains that went are deleted — kube-proxy's "minimize iptables-restore" — so one endpoint
 * change costs a few chains, not the whole table. A failed restore makes the next sync full.
 */
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { proxyLayout, type Chains, type ChainLayout, type RuleSet } from './iptables-rules.js';

const run = promisify(execFile);

/** The commands the syncer runs; a fake stands in for it in unit tests. */
export interface IptablesRunner {
  /** `iptables-restore --noflush` with this input. */
  restore(input: string): Promise<void>;
  /** `iptables-save -t table`. */
  save(table: 'nat' | 'filter'): Promise<string>;
  /** `iptables args…`; resolves whether it succeeded (`-C` checks fail by exiting 1). */
  iptables(args: string[]): Promise<boolean>;
}

/**
 * The machine's iptables commands, run through `prefix` when given (e.g. `nsenter --net=…` to
 * program another network namespace).
 */
export function systemIptables(prefix: string[] = []): IptablesRunner {
  const cmd = (name: string, args: string[]): [string, string[]] => (prefix.length ? [prefix[0]!, [...prefix.slice(1), name, ...args]] : [name, args]);
  return {
    restore: (input) =>
      new Promise((resolve, reject) => {
        const p = spawn(...cmd('iptables-restore', ['--noflush', '--wait']), { stdio: ['pipe', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('error', reject);
        p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`iptables-restore failed (exit ${code}): ${err.trim()}`))));
        p.stdin.end(input);
      }),
    save: async (table) => (await run(...cmd('iptables-save', ['-t', table]), { maxBuffer: 256 * 1024 * 1024 })).stdout,
    iptables: (args) => run(...cmd('iptables', ['--wait', ...args])).then(() => true, () => false),
  };
}

const tables = ['nat', 'filter'] as const;

/** The layout's chains among those `iptables-save` lists (`:NAME POLICY [counters]`). */
function ownChains(saved: string, table: 'nat' | 'filter', layout: ChainLayout): Set<string> {
  const own = new Set<string>();
  for (const line of saved.split('\n')) {
    const name = /^:(\S+)/.exec(line)?.[1];
    if (name && (layout.base[table].includes(name) || layout.prefixes.some((p) => name.startsWith(p)))) own.add(name);
  }
  return own;
}

export interface SyncResult {
  full: boolean;
  /** Chains written (created or rewritten) and deleted. */
  written: number;
  deleted: number;
}

export class IptablesSyncer {
  private readonly written: Record<'nat' | 'filter', Map<string, string>> = { nat: new Map(), filter: new Map() };
  private needFull = true;

  constructor(
    private readonly runner: IptablesRunner = systemIptables(),
    private readonly layout: ChainLayout = proxyLayout,
  ) {}

  /** Makes the next sync write everything and look for stale chains (e.g. rules edited by hand). */
  requestFullSync(): void {
    this.needFull = true;
  }

  async sync(rules: RuleSet): Promise<SyncResult> {
    const full = this.needFull;
    let input = '';
    let writtenCount = 0;
    let deletedCount = 0;
    const next: Record<'nat' | 'filter', Map<string, string>> = { nat: new Map(), filter: new Map() };
    for (const table of tables) {
      const desired: Chains = rules[table];
      const previous = this.written[table];
      // A full sync deletes whatever of ours is there and unwanted: chains of a k8ts that was
      // killed, or of Services deleted while it was down.
      const present = full ? ownChains(await this.runner.save(table), table, this.layout) : new Set(previous.keys());
      const declare: string[] = [];
      const lines: string[] = [];
      for (const [chain, chainRules] of desired) {
        const text = chainRules.join('\n');
        next[table].set(chain, text);
        if (!full && previous.get(chain) === text) continue;
        declare.push(`:${chain} - [0:0]`);
        if (chainRules.length) lines.push(text);
        writtenCount++;
      }
      const stale = [...present].filter((c) => !desired.has(c));
      for (const chain of stale) declare.push(`:${chain} - [0:0]`); // flushed first, so nothing refers to another stale chain
      for (const chain of stale) lines.push(`-X ${chain}`);
      deletedCount += stale.length;
      if (declare.length) input += `*${table}\n${declare.join('\n')}\n${lines.length ? `${lines.join('\n')}\n` : ''}COMMIT\n`;
    }
    this.needFull = true;
    if (input) await this.runner.restore(input);
    if (full) await this.ensureJumps();
    this.written.nat = next.nat;
    this.written.filter = next.filter;
    this.needFull = false;
    return { full, written: writtenCount, deleted: deletedCount };
  }

  /** The built-in chains' jumps into ours, each added once, first in its chain. */
  private async ensureJumps(): Promise<void> {
    for (const j of this.layout.jumps) {
      if (!(await this.runner.iptables(['-t', j.table, '-C', j.chain, ...j.args]))) {
        if (!(await this.runner.iptables(['-t', j.table, '-I', j.chain, '1', ...j.args]))) throw new Error(`could not add the rule "-t ${j.table} -I ${j.chain} ${j.args.join(' ')}"`);
      }
    }
  }

  /** Removes every rule and chain of the layout, as if it had never been written. */
  async cleanup(): Promise<void> {
    for (const j of this.layout.jumps) {
      while (await this.runner.iptables(['-t', j.table, '-D', j.chain, ...j.args]));
    }
    let input = '';
    for (const table of tables) {
      const own = [...ownChains(await this.runner.save(table), table, this.layout)];
      if (own.length) input += `*${table}\n${own.map((c) => `:${c} - [0:0]`).join('\n')}\n${own.map((c) => `-X ${c}`).join('\n')}\nCOMMIT\n`;
    }
    if (input) await this.runner.restore(input);
    this.written.nat.clear();
    this.written.filter.clear();
    this.needFull = true;
  }
}

/**
 * Kernel settings kube-proxy needs: NodePorts on 127.0.0.1 (route_localnet), forwarding, and
 * bridged pod traffic passing through iptables (so a reply from a pod on the same bridge is
 * un-DNATed). Each is best effort: a missing file means the kernel lacks the feature.
 */
export function applyProxySysctls(): string[] {
  const failed: string[] = [];
  for (const [path, value] of [
    ['/proc/sys/net/ipv4/conf/all/route_localnet', '1'],
    ['/proc/sys/net/ipv4/ip_forward', '1'],
    ['/proc/sys/net/bridge/bridge-nf-call-iptables', '1'],
  ] as const) {
    try {
      writeFileSync(path, value);
    } catch {
      failed.push(path);
    }
  }
  return failed;
}
