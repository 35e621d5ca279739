import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { FileCache, compareIssues, loadRegistrations, parseRegistrationText } from '../../src/config/load.js';
import { formatIssueLine } from '../../src/config/report.js';
import { CORPUS } from './corpus.js';
import type { Issue } from '../../src/config/types.js';

const dirs: string[] = [];
async function tempDir(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cdn-load-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const short = (i: Issue): string => `${i.line}:${i.column} ${i.severity} ${i.pointer} ${i.message}`;

/** A valid registration with the given channel block (YAML, indented for `channels:`). */
function registration(name: string, channel: string): string {
  return `apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: ${name}\nspec:\n  application: app-${name}\n  channels:\n${channel}`;
}

const VALID_CHANNELS: Record<string, string> = {
  slack: '    - name: c\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n      events: [Failed]\n      template: { title: "{{emoji}} {{application}}", text: "{{labels.tier}} {{consoleUrl}}" }\n',
  teams: '    - name: c\n      type: teams\n      webhookUrl: { fromEnv: TEAMS_URL }\n',
  webhook: '    - name: c\n      type: webhook\n      url: http://127.0.0.1:9000/hook\n      secret: { fromEnv: HOOK_SECRET }\n      headers: { X-Team: a, Authorization: { fromEnv: HOOK_TOKEN } }\n',
  'webhook (url as secret)': '    - name: c\n      type: webhook\n      url: { fromEnv: HOOK_URL }\n',
  sns: '    - name: c\n      type: sns\n      topicArn: arn:aws:sns:eu-west-1:123456789012:deploys.fifo\n',
  email: '    - name: c\n      type: email\n      from: deploys@example.com\n      to: [a@example.com, b@example.com]\n      cc: [c@example.com]\n      configurationSet: deploys\n',
  newrelic: '    - name: c\n      type: newrelic\n      entityGuid: MXxBUE18QVBQTElDQVRJT058MTIzNDU2\n      apiKey: { fromEnv: NR_KEY }\n      region: EU\n      endpoint: http://127.0.0.1:9/graphql\n',
};

describe('the invalid-registration corpus', () => {
  it('has at least 30 cases, covering every channel type', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(30);
    for (const type of ['slack', 'teams', 'webhook', 'sns', 'email', 'newrelic']) {
      expect(CORPUS.some((c) => c.name.startsWith(`${type}:`)), type).toBe(true);
    }
  });

  it.each(CORPUS.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = parseRegistrationText(c.yaml, `corpus/${c.name}.yaml`, `${c.name}.yaml`);
    const issues = [...result.issues].sort(compareIssues);
    expect(issues.map(short)).toEqual(c.expect);
    expect(issues.every((i) => i.file === `corpus/${c.name}.yaml`)).toBe(true);
    expect(result.registrations).toEqual([]);
  });
});

describe('valid registrations', () => {
  it.each(Object.entries(VALID_CHANNELS))('a %s channel validates', (_type, channel) => {
    const result = parseRegistrationText(registration('ok', channel), 'ok.yaml', 'ok.yaml');
    expect(result.issues).toEqual([]);
    expect(result.registrations).toHaveLength(1);
    expect(result.registrations[0]).toMatchObject({ file: 'ok.yaml', documentIndex: 0, line: 4, column: 9 });
  });

  it('the example registrations validate and use every channel type', async () => {
    const result = await loadRegistrations('registrations');
    expect(result.issues).toEqual([]);
    expect(result.files.length).toBeGreaterThanOrEqual(3);
    expect(result.registrations.length).toBeGreaterThanOrEqual(3);
    const types = new Set(result.registrations.flatMap((r) => r.registration.spec.channels.map((c) => c.type)));
    expect([...types].sort()).toEqual(['email', 'newrelic', 'slack', 'sns', 'teams', 'webhook']);
  });

  it('resolves YAML anchors and merge keys', () => {
    const yaml = `${registration('anchors', '    - &base\n      name: a\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n    - <<: *base\n      name: b\n')}`;
    const result = parseRegistrationText(yaml, 'a.yaml', 'a.yaml');
    expect(result.issues).toEqual([]);
    expect(result.registrations[0]?.registration.spec.channels.map((c) => c.name)).toEqual(['a', 'b']);
  });
});

describe('loading a directory', () => {
  it('reads .yaml and .yml recursively, skips hidden entries and other files, and positions later documents', async () => {
    const dir = await tempDir({
      'a.yaml': registration('a', VALID_CHANNELS.teams as string),
      'team/b.yml': `${registration('b', VALID_CHANNELS.sns as string)}---\n${registration('c', '    - name: x\n      type: bogus\n')}`,
      '.hidden.yaml': 'not: [valid',
      '.git/c.yaml': 'not: [valid',
      'README.md': '# not a registration',
    });
    const result = await loadRegistrations(dir, { displayDir: 'regs' });
    expect(result.files).toEqual(['regs/a.yaml', 'regs/team/b.yml']);
    expect(result.documents).toBe(3);
    expect(result.registrations.map((r) => [r.registration.metadata.name, r.file, r.relativePath, r.documentIndex, r.line])).toEqual([
      ['a', 'regs/a.yaml', 'a.yaml', 0, 4],
      ['b', 'regs/team/b.yml', 'team/b.yml', 0, 4],
    ]);
    expect(result.issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.pointer}`)).toEqual(['regs/team/b.yml:20:13 /spec/channels/0/type']);
  });

  it('reports a metadata.name used twice, naming the other file and line', async () => {
    const dir = await tempDir({
      'a.yaml': registration('same', VALID_CHANNELS.teams as string),
      'b.yaml': `# comment\n${registration('same', VALID_CHANNELS.sns as string)}`,
    });
    const result = await loadRegistrations(dir, { displayDir: 'regs' });
    expect(result.issues).toEqual([
      {
        file: 'regs/b.yaml',
        line: 5,
        column: 9,
        pointer: '/metadata/name',
        severity: 'error',
        message: 'duplicate metadata.name "same": already defined at regs/a.yaml:4:9; names must be unique across all files',
      },
    ]);
    expect(result.registrations.map((r) => r.file)).toEqual(['regs/a.yaml']);
  });

  it('warns about an empty file and empty documents without failing', async () => {
    const dir = await tempDir({ 'empty.yaml': '', 'comments.yaml': '# nothing yet\n', 'ok.yaml': registration('ok', VALID_CHANNELS.teams as string) });
    const result = await loadRegistrations(dir);
    expect(result.issues.map((i) => [path.basename(i.file), i.severity, i.message])).toEqual([
      ['comments.yaml', 'warning', 'file holds no registration (it is empty or only comments)'],
      ['empty.yaml', 'warning', 'file holds no registration (it is empty or only comments)'],
    ]);
    expect(result.registrations).toHaveLength(1);
  });

  it('with checkEnv reports unset secret variables, and only those', async () => {
    const dir = await tempDir({ 'a.yaml': registration('a', VALID_CHANNELS.webhook as string) });
    const result = await loadRegistrations(dir, { checkEnv: true, env: { HOOK_SECRET: 's3cret', HOOK_TOKEN: '' } });
    expect(result.issues.map(short)).toEqual([
      '12:44 error /spec/channels/0/headers/Authorization environment variable HOOK_TOKEN is not set (referenced as { fromEnv: HOOK_TOKEN }; checked because of --check-env)',
    ]);
  });

  it('never echoes a pasted secret in a message', () => {
    const slack = 'https://hooks.slack.com/services/T0000/B0000/abcdefghijklmnop';
    const yaml = registration('leak', `    - name: c\n      type: teams\n      webhookUrl: { fromEnv: "${slack}" }\n    - name: d\n      type: slack\n      webhookUrl: "${slack}"\n`);
    const result = parseRegistrationText(yaml, 'leak.yaml', 'leak.yaml');
    expect(result.issues.length).toBeGreaterThanOrEqual(2);
    for (const issue of result.issues) expect(issue.message).not.toContain('abcdefghijklmnop');
  });
});

describe('bad input: one positioned issue per file, and the other files still load', () => {
  const ok = registration('fine', VALID_CHANNELS.teams as string);
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]', 'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]', 'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]'].join('\n');
  const cases: [string, string | Buffer, string][] = [
    ['binary.yaml', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]), '3:1 error  binary file (contains NUL bytes): registration files must be UTF-8 text'],
    ['latin1.yaml', Buffer.concat([Buffer.from('metadata:\n  owner: caf'), Buffer.from([0xe9]), Buffer.from('\n')]), '2:13 error  invalid UTF-8 (byte 0xe9 at offset 22): save the file as UTF-8'],
    ['huge.yaml', Buffer.alloc(10 * 1024 * 1024, 'a: b\n'), '1:1 error  file is 10.0 MiB; registration files are limited to 1 MiB (split it into several files)'],
    ['bomb.yaml', bomb, '2:8 error  too many alias expansions (more than 100): the document looks like an alias bomb'],
    ['deep.yaml', `x: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, '1:68 error  nesting deeper than 64 levels; a registration needs only a few'],
    ['deep-block.yaml', Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'), '65:65 error  nesting deeper than 64 levels; a registration needs only a few'],
    ['deep-seq.yaml', `x:\n  ${'- '.repeat(200)}1\n`, '2:3 error  nesting deeper than 64 levels; a registration needs only a few'],
    ['list.yaml', '- apiVersion: codedeploy-notify/v1\n- kind: Registration\n', '1:1 error  a registration must be a mapping with apiVersion, kind, metadata and spec; found a list'],
    ['scalar.yaml', '42\n', '1:1 error  a registration must be a mapping with apiVersion, kind, metadata and spec; found a single value (42)'],
    ['tabs.yaml', 'apiVersion: codedeploy-notify/v1\nmetadata:\n\tname: x\n', '3:1 error  tab used for indentation: YAML indents with spaces only'],
    ['control.yaml', 'metadata:\n  name: a\u0007b\n', '2:10 error  control character U+0007 is not allowed in YAML'],
    // found by test/fuzz: these made the loader recurse until the stack overflowed, or print a warning on stderr
    ['self-alias.yaml', 'metadata:\n  name: x\nspec:\n  channels: &self [*self]\n', '4:20 error  alias *self is inside the node it refers to (&self); a registration cannot contain itself'],
    ['merge-self.yaml', 'metadata: &m\n  name: x\n  <<: *m\n', '3:7 error  alias *m is inside the node it refers to (&m); a registration cannot contain itself'],
    ['list-key.yaml', 'metadata:\n  labels: { [a, b]: x }\n', '2:13 error  a mapping key must be a plain name, found a list'],
    ['alias-key.yaml', 'a: &k { b: 1 }\n*k : 2\n', '2:1 error  a mapping key must be a plain name, found a mapping'],
    // found by test/fuzz: a Buffer reached the schema check as a mapping with one issue per Buffer method
    ['tag-binary.yaml', 'metadata:\n  labels: !!binary aGVsbG8=\n', '2:20 error  !!binary values are not supported: a registration holds only strings, numbers, booleans, lists and mappings (remove the tag)'],
    ['tag-omap.yaml', 'spec:\n  channels: [{ name: a, template: !!omap [title: x] }]\n', '2:42 error  !!omap values are not supported: a registration holds only strings, numbers, booleans, lists and mappings (remove the tag)'],
  ];

  it.each(cases)('%s', async (name, content, expected) => {
    const dir = await tempDir({ [name]: content, 'zz-ok.yaml': ok });
    const result = await loadRegistrations(dir);
    const mine = result.issues.filter((i) => i.file.endsWith(`/${name}`));
    expect(mine.map(short)).toEqual([expected]);
    expect(result.registrations.map((r) => r.registration.metadata.name)).toEqual(['fine']);
  });

  it('a file that cannot be read (a dangling link) is one issue', async () => {
    const dir = await tempDir({ 'ok.yaml': ok });
    await symlink(path.join(dir, 'missing-target'), path.join(dir, 'dangling.yaml'));
    const result = await loadRegistrations(dir);
    expect(result.issues.map((i) => `${path.basename(i.file)} ${short(i)}`)).toEqual(['dangling.yaml 1:1 error  cannot read file: no such file (ENOENT)']);
    expect(result.registrations).toHaveLength(1);
  });

  it('a special file named .yaml (a FIFO, which would block a reader) is one issue', async () => {
    const dir = await tempDir({ 'ok.yaml': ok });
    execFileSync('mkfifo', [path.join(dir, 'pipe.yaml')]);
    const result = await loadRegistrations(dir);
    expect(result.issues.map((i) => `${path.basename(i.file)} ${short(i)}`)).toEqual(['pipe.yaml 1:1 error  not a regular file']);
    expect(result.registrations).toHaveLength(1);
  });
});

describe('found by fuzzing (test/fuzz)', () => {
  it('positions stay right after syntax errors that the yaml parser miscounts lines for', () => {
    // the parser's own line counter missed the start of line 4 here, so later issues pointed past the end of line 3
    const result = parseRegistrationText('  labels:\nmetadata:\n  owner: t\n    tier: standard\nspec: 1\n', 'p.yaml', 'p.yaml');
    expect(result.issues.map((i) => `${i.line}:${i.column}`)).toEqual(['2:1', '2:9', '3:3', '3:8', '3:10', '4:9', '4:11', '5:1', '5:5', '5:7']);
    expect(result.issues[6]?.message).toBe('YAML syntax error: Unexpected scalar token in YAML stream: "standard"');
  });

  it('shows control, invisible and line-breaking characters from the file as escapes, so each issue stays one line', () => {
    const yaml = registration('esc', '    - name: c\n      type: sns\n      topicArn: arn:aws:sns:us-east-1:123456789012:t\n      "ty\\u2028pe\\tx": 1\n').replace(
      '  application: app-esc\n',
      '  application: app-esc\n  events: ["Failed\\u0085", "Stopped\\u200b"]\n',
    );
    const result = parseRegistrationText(yaml, 'e.yaml', 'e.yaml');
    expect(result.issues.map(short)).toEqual([
      '7:12 error /spec/events/0 events[0] must be one of Started, Ready, Succeeded, Failed, Stopped; found "Failed\\u0085"; did you mean "Failed"?',
      '7:28 error /spec/events/1 events[1] must be one of Started, Ready, Succeeded, Failed, Stopped; found "Stopped\\u200b"; did you mean "Stopped"?',
      '12:7 error /spec/channels/0/ty\u2028pe\tx unknown property "ty\\u2028pe\\tx"; known properties: name, type, topicArn, events, template',
    ]);
    // the text form percent-encodes what would split the pointer; JSON keeps the pointer as it is
    expect(formatIssueLine(result.issues[2] as Issue)).toBe('e.yaml:12:7: error: /spec/channels/0/ty%E2%80%A8pe%09x: unknown property "ty\\u2028pe\\tx"; known properties: name, type, topicArn, events, template');
    expect(formatIssueLine({ ...(result.issues[2] as Issue), pointer: '/spec/a b%' })).toContain(': /spec/a%20b%25: ');
  });

  it('a metadata.name with a line break used twice is reported on one line', async () => {
    const doc = registration('x', VALID_CHANNELS.sns as string).replace('name: x', 'name: "a\\nb"');
    const dir = await tempDir({ 'a.yaml': doc, 'b.yaml': doc });
    const result = await loadRegistrations(dir);
    const duplicate = result.issues.find((i) => i.message.startsWith('duplicate metadata.name'));
    expect(duplicate?.message).toMatch(/^duplicate metadata\.name "a\\nb": already defined at .*a\.yaml:4:9; names must be unique across all files$/);
  });

  it('reports duplicate keys exactly as the quadratic check of the yaml library does', () => {
    const text = 'a: 1\nb: 2\na: 3\n"1": x\n1: y\n<<: {}\n<<: {}\nf: { x: 1, x: 2 }\n~: 1\nnull: 2\n? [k]\n: 1\n? [k]\n: 2\n';
    const theirs = parseAllDocuments(text, { uniqueKeys: true, merge: true }) as Document.Parsed[];
    const lineCounter = new LineCounter();
    parseAllDocuments(text, { lineCounter });
    const expected = theirs.flatMap((d) => d.errors.filter((e) => e.code === 'DUPLICATE_KEY').map((e) => { const p = lineCounter.linePos(e.pos[0]); return `${p.line}:${p.col}`; }));
    expect(expected).toEqual(['3:1', '8:12', '10:1']);
    const ours = parseRegistrationText(text, 'd.yaml', 'd.yaml').issues.filter((i) => i.message.startsWith('duplicate key')).sort(compareIssues);
    expect(ours.map((i) => `${i.line}:${i.column}`)).toEqual(expected);
    expect(ours.map((i) => i.message)).toEqual([
      'duplicate key "a": each key may appear only once in a mapping',
      'duplicate key "x": each key may appear only once in a mapping',
      'duplicate key "null": each key may appear only once in a mapping',
    ]);
  });

  it.each([
    ['!!set { x }', '!!set'],
    ['!!timestamp 2001-12-14', '!!timestamp'],
  ])('labels: %s is an issue, not a valid registration with a Set or Date inside', (value, tag) => {
    // a Set or a Date has no own keys, so the schema took either for an empty mapping and accepted it
    const yaml = registration('tagged', VALID_CHANNELS.sns as string).replace('  name: tagged\n', `  name: tagged\n  labels: ${value}\n`);
    const result = parseRegistrationText(yaml, 't.yaml', 't.yaml');
    expect(result.registrations).toEqual([]);
    expect(result.issues.map((i) => `${i.line} ${i.message}`)).toEqual([`5 ${tag} values are not supported: a registration holds only strings, numbers, booleans, lists and mappings (remove the tag)`]);
  });

  it('a duplicate of a key with an empty value is named and positioned on its own line', () => {
    // yaml's own check pointed at the end of line 1 here, and the message could not name the key
    const result = parseRegistrationText('metadata:\nmetadata:\n  name: x\n', 'd.yaml', 'd.yaml');
    expect(result.issues.map(short)).toEqual(['2:1 error  duplicate key "metadata": each key may appear only once in a mapping']);
  });

  it('a list or mapping used as a key gets an issue, not a warning printed by the yaml library', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const result = parseRegistrationText('metadata:\n  labels: { { a: 1 }: x }\n', 'k.yaml', 'k.yaml');
      expect(result.issues.map(short)).toEqual(['2:13 error  a mapping key must be a plain name, found a mapping']);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.message)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('the parse cache of long-lived callers', () => {
  it('re-reads only files whose stamp changed, forgets deleted files, and gives the same result as a fresh load', async () => {
    const dir = await tempDir({
      'a.yaml': registration('a', VALID_CHANNELS.teams as string),
      'b.yaml': registration('b', VALID_CHANNELS.sns as string),
    });
    const cache = new FileCache();
    const first = await loadRegistrations(dir, { cache });
    expect(cache.size).toBe(2);
    const [a1, b1] = first.registrations;

    // unchanged files come back as the very same objects; a changed file is parsed again
    await writeFile(path.join(dir, 'b.yaml'), registration('b', '    - name: c\n      type: slak\n'));
    const second = await loadRegistrations(dir, { cache });
    expect(second.registrations[0]).toBe(a1);
    expect(second.registrations.map((r) => r.registration.metadata.name)).toEqual(['a']);
    expect(second.issues.map((i) => `${path.basename(i.file)} ${i.pointer}`)).toEqual(['b.yaml /spec/channels/0/type']);
    expect(second).toEqual(await loadRegistrations(dir));
    expect(b1?.registration.metadata.name).toBe('b');

    await rm(path.join(dir, 'b.yaml'));
    await loadRegistrations(dir, { cache });
    expect(cache.size).toBe(1);
  });
});
