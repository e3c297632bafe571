import { readFileSync } from 'node:fs';

/** The Kubernetes version whose API and behaviour k8ts follows. */
export const kubernetesVersion = { major: '1', minor: '32', patch: '0' };

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The body of `/version`, shaped as Kubernetes' `version.Info` (`v1.32.0+k8ts0.1.0`, as k3s writes `+k3s1`). */
export function versionInfo(): Record<string, string> {
  const v = kubernetesVersion;
  return {
    major: v.major,
    minor: v.minor,
    emulationMajor: v.major,
    emulationMinor: v.minor,
    minCompatibilityMajor: v.major,
    minCompatibilityMinor: String(Number(v.minor) - 1),
    gitVersion: `v${v.major}.${v.minor}.${v.patch}+k8ts${packageVersion()}`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-11-22T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
