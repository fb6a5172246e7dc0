#!/usr/bin/env node
// Makes sure a Chromium the browser test can drive is present: CHROMIUM_PATH when set, otherwise
// Debian's package (/usr/bin/chromium), installed with apt-get when missing. Prints the path.
//
//   node scripts/install-chromium.mjs          install or reuse, print the path
//   node scripts/install-chromium.mjs --quiet  print nothing but the path; explain only on failure
//   CHROMIUM_PATH=/opt/chrome/chrome ...       use that browser and install nothing
// Exit codes: 0 found (path on stdout), 1 CHROMIUM_PATH is wrong, 2 cannot be installed here.
//
// Playwright's own browser download is deliberately not used: it fetches from a CDN, which closed
// networks (CI runners behind a registry mirror, this project's sandboxes) cannot reach, while
// Debian's package comes through the same apt mirror as everything else on the machine.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const DEBIAN_PATH = '/usr/bin/chromium';
const quiet = process.argv.includes('--quiet');

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Exit 1: misconfiguration (fix it); exit 2: no Chromium and no way to install one on this machine.
const MISCONFIGURED = 1;
const CANNOT_INSTALL = 2;
function fail(message, code = CANNOT_INSTALL) {
  console.error(`install-chromium: ${message}`);
  process.exit(code);
}

function run(command, args) {
  if (!quiet) console.error(`install-chromium: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    // apt's progress goes to stderr so stdout stays the path alone.
    stdio: ['ignore', quiet ? 'pipe' : process.stderr, quiet ? 'pipe' : process.stderr],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) return `${command} could not start: ${result.error.message}`;
  if (result.status !== 0) {
    const tail = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    return `${command} ${args.join(' ')} exited with ${result.status}${tail ? `:\n${tail}` : ''}`;
  }
  return undefined;
}

const override = process.env.CHROMIUM_PATH;
if (override) {
  if (!isExecutable(override))
    fail(
      `CHROMIUM_PATH=${override} is not an executable file. Point it at a Chromium or Chrome binary, or unset it to use Debian's package.`,
      MISCONFIGURED,
    );
  console.log(override);
  process.exit(0);
}

if (isExecutable(DEBIAN_PATH)) {
  console.log(DEBIAN_PATH);
  process.exit(0);
}

const manualSteps =
  `Install it yourself and run again: \`sudo apt-get update && sudo apt-get install -y chromium\` (Debian/Ubuntu), ` +
  `or set CHROMIUM_PATH to an existing Chromium or Chrome binary.`;

if (process.platform !== 'linux')
  fail(
    `${DEBIAN_PATH} is missing and apt-get is Linux only. Set CHROMIUM_PATH to a Chromium or Chrome binary.`,
  );
if (typeof process.getuid === 'function' && process.getuid() !== 0)
  fail(
    `${DEBIAN_PATH} is missing and installing it needs root (this process runs as uid ${process.getuid()}). ${manualSteps}`,
  );
const aptCheck = spawnSync('apt-get', ['--version'], { stdio: 'ignore' });
if (aptCheck.error || aptCheck.status !== 0)
  fail(`${DEBIAN_PATH} is missing and apt-get is not available on this machine. ${manualSteps}`);

const problem = run('apt-get', ['update']) ?? run('apt-get', ['install', '-y', 'chromium']);
if (problem) fail(`installing Debian's chromium failed: ${problem}\n${manualSteps}`);
if (!isExecutable(DEBIAN_PATH))
  fail(`apt-get installed chromium but ${DEBIAN_PATH} is not there. ${manualSteps}`);
console.log(DEBIAN_PATH);
