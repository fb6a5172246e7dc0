#!/usr/bin/env node
// Makes sure a real S3-compatible server is available for tests and the local multi-worker demo:
// moto's server mode, installed from PyPI (pinned) into a virtual environment in the project's cache.
//
// Order: the Python named by TANGO_CAMPAIGNS_S3_PYTHON (must already import moto), the cached venv,
// then a fresh install. The resolved interpreter is written to <cache>/s3-server.json, which
// scripts/s3-server.ts (and so the test helper) reads.
//
//   node scripts/install-s3.mjs                  install or reuse, print the interpreter
//   TANGO_CAMPAIGNS_CACHE=/some/dir ...          cache location (default ~/.cache/tango-campaigns)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const MOTO_VERSION = '5.2.5'; // PyPI moto[server]

const env = process.env;
const cacheRoot =
  env.TANGO_CAMPAIGNS_CACHE ??
  path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'tango-campaigns');
const quiet = process.argv.includes('--quiet');

function log(message) {
  if (!quiet) console.log(`[install-s3] ${message}`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 15 * 60_000, ...options });
  return {
    ok: result.status === 0,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    error: result.error,
  };
}

function lastLines(result) {
  return (result.stderr || result.stdout || String(result.error ?? 'failed'))
    .trim()
    .split('\n')
    .slice(-4)
    .join(' ');
}

function onPath(name) {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The moto version an interpreter imports, or undefined when it cannot run the server. */
function motoVersionOf(python) {
  if (!python || !existsSync(python)) return undefined;
  // Importing flask too proves the [server] extra is there, not just the library.
  const probe = run(python, ['-c', 'import moto, flask; print(moto.__version__)'], { timeout: 60_000 });
  return probe.ok ? probe.stdout.trim() : undefined;
}

function venvPython(dir) {
  return process.platform === 'win32'
    ? path.join(dir, 'Scripts', 'python.exe')
    : path.join(dir, 'bin', 'python');
}

function install(target) {
  const python = onPath('python3') ?? onPath('python');
  if (!python) throw new Error('python3 not found on PATH (moto is a Python package)');
  // Built beside the target and renamed into place, so an interrupted install is never mistaken for a
  // finished one. A venv survives the rename because we only ever run its bin/python.
  const staging = `${target}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    const venv = run(python, ['-m', 'venv', staging]);
    if (!venv.ok) throw new Error(`python3 -m venv failed: ${lastLines(venv)}`);
    const pip = run(venvPython(staging), [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-input',
      `moto[server]==${MOTO_VERSION}`,
    ]);
    if (!pip.ok) throw new Error(`pip install moto[server]==${MOTO_VERSION} failed: ${lastLines(pip)}`);
    if (existsSync(target)) {
      // Another process finished first; theirs is as good as ours.
      if (motoVersionOf(venvPython(target)) === MOTO_VERSION) return venvPython(target);
      rmSync(target, { recursive: true, force: true });
    }
    renameSync(staging, target);
    return venvPython(target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function resolvePython() {
  const fromEnv = env.TANGO_CAMPAIGNS_S3_PYTHON;
  if (fromEnv) {
    const version = motoVersionOf(fromEnv);
    if (version) {
      log(`using TANGO_CAMPAIGNS_S3_PYTHON=${fromEnv} (moto ${version})`);
      return fromEnv;
    }
    throw new Error(
      `TANGO_CAMPAIGNS_S3_PYTHON=${fromEnv} cannot import moto and flask. ` +
        `Install moto[server] into it (pip install 'moto[server]==${MOTO_VERSION}') or unset it.`,
    );
  }
  const target = path.join(cacheRoot, `moto-server-${MOTO_VERSION}`);
  const cached = venvPython(target);
  if (motoVersionOf(cached) === MOTO_VERSION) {
    log(`moto ${MOTO_VERSION}: cached at ${target}`);
    return cached;
  }
  log(`moto ${MOTO_VERSION}: installing moto[server] from PyPI into ${target}...`);
  const started = Date.now();
  const python = install(target);
  const version = motoVersionOf(python);
  if (version !== MOTO_VERSION)
    throw new Error(`moto was installed into ${target} but its Python does not import moto ${MOTO_VERSION}`);
  log(`moto ${MOTO_VERSION}: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return python;
}

try {
  mkdirSync(cacheRoot, { recursive: true });
  const python = resolvePython();
  const manifest = path.join(cacheRoot, 's3-server.json');
  writeFileSync(manifest, JSON.stringify({ python, moto: MOTO_VERSION }, null, 2) + '\n');
  log(`ready: ${python} (${manifest})`);
} catch (error) {
  console.error(
    `[install-s3] The local S3-compatible server (moto) could not be installed: ${error.message}\n` +
      'Point TANGO_CAMPAIGNS_S3_PYTHON at a Python with moto[server] installed, or use an external ' +
      'S3-compatible endpoint (see docs/operations.md, "Shared store on S3").',
  );
  process.exit(1);
}
