// There is no Docker engine here, so the image is tested through what it relies on: its
// structure, production dependencies that cover every import of the build, the bin's shebang,
// and the HEALTHCHECK command itself run against a live daemon.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, requireBuiltCli } from '../helpers/cli.js';
import { startDaemon, type DaemonProcess } from '../helpers/daemon.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let dockerfile: string;

beforeAll(async () => {
  requireBuiltCli();
  dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
});

describe('Dockerfile', () => {
  it('is multi-stage on Node 20 slim, production dependencies only, non-root, registrations at /app/registrations, entrypoint run', () => {
    expect(dockerfile.match(/^FROM node:20-slim/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/src\/dist \.\/dist$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/CODEDEPLOY_NOTIFY_DIR=\/app\/registrations/);
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["codedeploy-notify", "run"\]$/m);
    expect(dockerfile).toMatch(/ln -s \/app\/dist\/cli\.js \/usr\/local\/bin\/codedeploy-notify/);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
    // the memory benchmark measures the image's heap flags and malloc arenas by reading them from here
    expect(dockerfile).toMatch(/^ENV NODE_OPTIONS="--max-old-space-size=\d+ --max-semi-space-size=\d+"$/m);
    expect(dockerfile).toMatch(/^ENV MALLOC_ARENA_MAX=\d+$/m);
  });

  it('the built bin is executable by node directly (shebang) and package.json points at it', async () => {
    expect((await readFile(CLI, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin['codedeploy-notify']).toBe('dist/cli.js');
  });

  it('every package the build imports is a production dependency (npm ci --omit=dev is enough)', async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const imported = new Set<string>();
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.name.endsWith('.js')) {
          const text = await readFile(full, 'utf8');
          const statements = text.matchAll(/^(?:import|export)\s[^;]*?\bfrom\s+['"]([^'"]+)['"]/gm);
          const dynamic = text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g);
          for (const m of [...statements, ...dynamic]) if (!(m[1] as string).startsWith('.')) imported.add(m[1] as string);
        }
      }
    };
    await walk(path.dirname(CLI));
    const packages = [...imported]
      .filter((spec) => !spec.startsWith('node:') && !builtinModules.includes(spec))
      .map((spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string)));
    expect(packages.length).toBeGreaterThan(5);
    for (const name of new Set(packages)) expect(pkg.dependencies, `${name} is imported by dist/ but is not in dependencies`).toHaveProperty(name);
  });

  describe('the HEALTHCHECK command', () => {
    let cwd: string;
    let daemon: DaemonProcess;
    let port: number;
    const healthcheck = (): string => {
      const match = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfile);
      if (!match) throw new Error('no HEALTHCHECK CMD in exec form');
      return (JSON.parse(match[1] as string) as string[]).slice(1).join(' ');
    };
    const check = async (env: Record<string, string>) => {
      const [, flag, script] = /^(-e) (.*)$/s.exec(healthcheck()) ?? [];
      try {
        await run(process.execPath, [flag as string, script as string], { env: { ...process.env, ...env }, timeout: 10_000 });
        return 0;
      } catch (error) {
        return (error as { code?: number }).code ?? 1;
      }
    };

    beforeAll(async () => {
      cwd = await mkdtemp(path.join(tmpdir(), 'cdn-docker-'));
      await cp(path.join(ROOT, 'registrations'), path.join(cwd, 'registrations'), { recursive: true });
      port = await freePort();
      daemon = startDaemon(['--local'], { CODEDEPLOY_NOTIFY_HTTP_PORT: String(port), AWS_REGION: undefined }, cwd);
      await daemon.waitForLog((l) => l.msg === 'daemon started', 15_000);
    });
    afterAll(async () => {
      daemon?.kill('SIGTERM');
      await daemon?.exited;
      await rm(cwd, { recursive: true, force: true });
    });

    it('exits 0 against a running daemon on CODEDEPLOY_NOTIFY_HTTP_PORT, and 1 when nothing listens', async () => {
      expect(await check({ CODEDEPLOY_NOTIFY_HTTP_PORT: String(port) })).toBe(0);
      expect(await check({ CODEDEPLOY_NOTIFY_HTTP_PORT: String(await freePort()) })).toBe(1);
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
