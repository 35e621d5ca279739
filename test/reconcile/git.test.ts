import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractDirectory, gitWorkTree, pathInTree, resolveCommit, sourceCommit } from '../../src/util/git.js';
import { commitAll, gitInit, makeTemp, removeTemp, writeFiles } from './helpers.js';

let repo: string;
let commit: string;
const binary = Buffer.from([0, 1, 2, 10, 13, 10, 255, 0x0a]);
beforeAll(async () => {
  repo = await makeTemp('gitutil');
  await gitInit(repo);
  await writeFiles(repo, {
    'regs/a.yaml': 'a: 1\n',
    'regs/deep/er/b.YML': 'b: 2\nwith: "a newline at the end"\n\n',
    'regs/.hidden/c.yaml': 'hidden: true\n',
    'regs/.d.yaml': 'hidden: true\n',
    'regs/readme.md': '# not a registration\n',
    'other/x.yaml': 'outside: true\n',
  });
  await writeFile(path.join(repo, 'regs/bin.yaml'), binary);
  await symlink('a.yaml', path.join(repo, 'regs/link.yaml'));
  commit = await commitAll(repo, 'files');
});
afterAll(async () => removeTemp(repo));

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

describe('git helpers', () => {
  it('extracts exactly the registration files of a directory at a commit, byte for byte', async () => {
    const dest = await makeTemp('extract');
    const result = await extractDirectory(repo, commit, 'regs', dest);
    expect(result).toEqual({ files: 3, exists: true });
    expect(await listFiles(dest)).toEqual(['a.yaml', 'bin.yaml', 'deep/er/b.YML']);
    expect(await readFile(path.join(dest, 'deep/er/b.YML'), 'utf8')).toBe('b: 2\nwith: "a newline at the end"\n\n');
    expect(Buffer.compare(await readFile(path.join(dest, 'bin.yaml')), binary)).toBe(0);
    const missing = await makeTemp('extract-missing');
    expect(await extractDirectory(repo, commit, 'nowhere', missing)).toEqual({ files: 0, exists: false });
    await removeTemp(dest);
    await removeTemp(missing);
  });

  it('finds the work tree, HEAD and whether the directory has uncommitted changes', async () => {
    const tree = await gitWorkTree(path.join(repo, 'regs'));
    expect(tree?.head).toBe(commit);
    expect(tree?.dirty).toBe(false);
    expect(sourceCommit(tree)).toBe(commit);
    expect(await pathInTree(tree!, path.join(repo, 'regs/deep'))).toBe('regs/deep');
    await writeFile(path.join(repo, 'other/y.yaml'), 'elsewhere: true\n');
    expect((await gitWorkTree(path.join(repo, 'regs')))?.dirty).toBe(false);
    await mkdir(path.join(repo, 'regs/new'), { recursive: true });
    await writeFile(path.join(repo, 'regs/new/z.yaml'), 'z: 1\n');
    expect(sourceCommit(await gitWorkTree(path.join(repo, 'regs')))).toBe(`${commit}-dirty`);
    const outside = await makeTemp('nogit');
    expect(await gitWorkTree(outside)).toBeUndefined();
    await removeTemp(outside);
  });

  it('resolves refs to commits and never treats a ref as an option', async () => {
    expect(await resolveCommit(repo, 'main')).toBe(commit);
    expect(await resolveCommit(repo, commit.slice(0, 8))).toBe(commit);
    expect(await resolveCommit(repo, 'no-such-branch')).toBeUndefined();
    expect(await resolveCommit(repo, '--output=/tmp/x')).toBeUndefined();
  });
});
