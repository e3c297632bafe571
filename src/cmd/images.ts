/**
 * `k8ts images import FILE.tar…`: loads image archives (OCI or docker save format) for nodes that
 * cannot pull. Into the running containerd of this machine's node when there is one; the archive
 * is also kept in `DATA_DIR/agent/images/`, which every start imports (air-gapped clusters).
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import type { Command } from 'commander';

export function addImagesCommand(program: Command): void {
  const images = program.command('images').description('Manage the images of this machine\'s node.');
  images
    .command('import')
    .description('Import image archives (OCI or docker save) for pods on this machine.')
    .argument('<files...>', 'image archives (.tar)')
    .option('--data-dir <dir>', 'state directory of the server or agent', process.getuid?.() === 0 ? '/var/lib/k8ts' : join(homedir(), '.k8ts'))
    .action(async (files: string[], flags: { dataDir: string }) => {
      // Loaded here, not at the top: every other command would pay for gRPC otherwise.
      const { containerdPaths } = await import('../kubelet/containerd/containerd-process.js');
      const { importArchive } = await import('../kubelet/images/oci-archive.js');
      const { CriClient } = await import('../kubelet/cri/cri-client.js');
      const agentDir = join(flags.dataDir, 'agent');
      const keep = join(agentDir, 'images');
      mkdirSync(keep, { recursive: true });
      const socket = containerdPaths(agentDir).socket;
      let running = false;
      if (existsSync(socket)) {
        const cri = new CriClient(`unix://${socket}`);
        running = await cri.waitReady(2000).then(() => true, () => false);
        cri.close();
      }
      let failed = false;
      for (const file of files) {
        if (!existsSync(file)) {
          process.stderr.write(`k8ts images import: ${file}: no such file\n`);
          failed = true;
          continue;
        }
        copyFileSync(file, join(keep, basename(file)));
        if (running) {
          try {
            const names = await importArchive(socket, file);
            process.stdout.write(`imported ${names.join(', ') || basename(file)}\n`);
          } catch (e) {
            process.stderr.write(`k8ts images import: ${file}: ${(e as Error).message}\n`);
            failed = true;
          }
        } else {
          process.stdout.write(`saved ${basename(file)} in ${keep}; it is imported when the node starts\n`);
        }
      }
      process.exitCode = failed ? 1 : 0;
    });
}
