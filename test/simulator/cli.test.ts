// `tango-campaigns simulator`: flags and a config file become options; it serves until told to stop.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runSimulatorCli, type RunningSimulator } from '../../src/simulator/index.ts';
import { call } from './helpers.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  let stop: (signal: string) => void = () => undefined;
  let onStarted: (sim: RunningSimulator) => void = () => undefined;
  const started = new Promise<RunningSimulator>((resolve) => (onStarted = resolve));
  return {
    out,
    err,
    started,
    stop: (signal: string) => stop(signal),
    io: {
      stdout: (text: string) => void out.push(text),
      stderr: (text: string) => void err.push(text),
      stopSignal: new Promise<string>((resolve) => (stop = resolve)),
      onStarted: (sim: RunningSimulator) => onStarted(sim),
    },
  };
}

describe('tango-campaigns simulator', () => {
  it('starts with flags over a config file, prints where it listens, and stops on a signal', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sim-cli-'));
    try {
      const config = path.join(dir, 'sim.json');
      writeFileSync(config, JSON.stringify({ throughput: 3, faults: { retryAfterSeconds: 7 } }));
      const harness = io();
      const exit = runSimulatorCli(
        [
          '--port',
          '0',
          '--config',
          config,
          '--throughput',
          '9',
          '--processing-delay-ms',
          '5',
          '--rate-limit-tps',
          '50',
        ],
        harness.io,
      );
      const sim = await harness.started;
      assert.equal(sim.options.throughput, 9, 'the flag wins over the file');
      assert.equal(sim.options.processingDelayMs, 5);
      assert.equal(sim.options.faults.rateLimitTps, 50);
      assert.equal(sim.options.faults.retryAfterSeconds, 7, 'the file is read');
      assert.match(harness.out.join(''), new RegExp(`TANGO_BASE_URL=${sim.baseUrl.replace(/[.]/g, '\\.')}`));
      assert.match(harness.out.join(''), /credentials: the local defaults/);
      assert.equal((await call(sim, 'GET', '/catalogs')).status, 200);
      harness.stop('SIGTERM');
      assert.equal(await exit, 0);
      assert.match(harness.out.join(''), /stopped \(SIGTERM\)/);
      await assert.rejects(fetch(`${sim.baseUrl}/catalogs`), 'the server is closed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad flags and bad config with exit code 2 and a message', async () => {
    const unknown = io();
    assert.equal(await runSimulatorCli(['--bogus'], unknown.io), 2);
    assert.match(unknown.err.join(''), /bogus/);
    const notNumber = io();
    assert.equal(await runSimulatorCli(['--port', 'abc'], notNumber.io), 2);
    assert.match(notNumber.err.join(''), /--port must be a number/);
    const missing = io();
    assert.equal(await runSimulatorCli(['--config', '/nonexistent/sim.json'], missing.io), 2);
    assert.match(missing.err.join(''), /cannot read --config/);
    const invalid = io();
    assert.equal(await runSimulatorCli(['--port', '0', '--throughput=-1'], invalid.io), 1);
    assert.match(invalid.err.join(''), /throughput/);
  });
});
