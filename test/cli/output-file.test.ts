// Files the CLI writes for operators (failures --csv, report --out): owner-only, never through a symlink.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliError } from '../../src/cli/context.ts';
import { writePrivateFile } from '../../src/cli/output-file.ts';

describe('CLI output files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cli-output-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const mode = async (file: string) => (await stat(file)).mode & 0o777;

  it('creates 0600 files, from text or a stream, whatever the umask', async () => {
    const previous = process.umask(0);
    try {
      const file = path.join(dir, 'failures.csv');
      await writePrivateFile(file, 'id,email\n1,a@example.com\n');
      assert.equal(await mode(file), 0o600);
      const streamed = path.join(dir, 'report.csv');
      await writePrivateFile(
        streamed,
        (async function* () {
          yield 'a,';
          yield Buffer.from('b\n');
        })(),
      );
      assert.equal((await readFile(streamed, 'utf8')).toString(), 'a,b\n');
      assert.equal(await mode(streamed), 0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('narrows an existing world-readable file to 0600 and replaces its contents', async () => {
    const file = path.join(dir, 'old.csv');
    await writeFile(file, 'a much longer earlier content\n');
    await chmod(file, 0o644);
    await writePrivateFile(file, 'new\n');
    assert.equal(await mode(file), 0o600);
    assert.equal(await readFile(file, 'utf8'), 'new\n');
  });

  it('refuses to write through a symlink and leaves its target alone', async () => {
    const target = path.join(dir, 'bashrc');
    await writeFile(target, 'keep me\n');
    const link = path.join(dir, 'out.csv');
    await symlink(target, link);
    await assert.rejects(writePrivateFile(link, 'pwned\n'), (error: unknown) => {
      assert.ok(error instanceof CliError);
      assert.match(error.message, /symbolic link: refusing to write through it/);
      return true;
    });
    assert.equal(await readFile(target, 'utf8'), 'keep me\n');
  });
});
