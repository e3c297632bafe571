/**
 * Image archives for machines that cannot pull: building a one-layer OCI image archive from a
 * directory (the pause image), and importing archives into containerd's `k8s.io` namespace,
 * where the CRI sees them (`k8ts images import`, `DATA_DIR/agent/images/*.tar`).
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary } from '../containerd/containerd-process.js';

const run = promisify(execFile);

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
}

/** Tars `rootfs` as one layer and writes an OCI image-layout archive naming it `ref`. */
export async function buildOciArchive(rootfs: string, ref: string, config: ImageConfig, out: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'k8ts-image-'));
  try {
    const layerFile = join(work, 'layer.tar');
    // Reproducible: same files, same digest, so a rebuilt image is the same image.
    await run('tar', ['--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--sort=name', '-C', rootfs, '-cf', layerFile, '.']);
    const layer = readFileSync(layerFile);
    const imageConfig = Buffer.from(
      JSON.stringify({
        architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
        os: 'linux',
        config: { Entrypoint: config.entrypoint, Cmd: config.cmd, Env: config.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: config.workingDir ?? '/' },
        rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`] },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha256(imageConfig)}`, size: imageConfig.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${sha256(layer)}`, size: layer.length }],
      }),
    );
    const layout = join(work, 'layout');
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    for (const blob of [layer, imageConfig, manifest]) writeFileSync(join(layout, 'blobs', 'sha256', sha256(blob)), blob);
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: `sha256:${sha256(manifest)}`,
            size: manifest.length,
            annotations: { 'org.opencontainers.image.ref.name': ref, 'io.containerd.image.name': ref },
          },
        ],
      }),
    );
    await run('tar', ['--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--sort=name', '-C', layout, '-cf', out, '.']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Imports an OCI or docker image archive into containerd (namespace `k8s.io`); answers the image names. */
export async function importArchive(socket: string, file: string): Promise<string[]> {
  const ctr = findBinary('ctr');
  if (!ctr) throw new Error('ctr (part of containerd) is not installed');
  const { stdout } = await run(ctr, ['--address', socket, '-n', 'k8s.io', 'images', 'import', '--all-platforms', file], { maxBuffer: 16 * 1024 * 1024 });
  // ctr prints "unpacking NAME (sha256:…)...done" per image.
  return [...stdout.matchAll(/unpacking (\S+) \(sha256:[0-9a-f]+\)/g)].map((m) => m[1]!);
}
