// `tango-campaigns dev` as a person runs it (npm start), on free ports and a scratch data directory:
// the sample campaign finishes with every item delivered or given up, the report says so, and Ctrl-C
// (SIGINT) stops every process the stack started.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

const root = path.join(import.meta.dirname, '..', '..');

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => listen()));
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Every process below `pid` (children, grandchildren...). */
function descendants(pid: number): number[] {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of table)
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface DevProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function spawnDev(args: string[]): DevProcess {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dev', ...args], {
    cwd: root,
    env: { ...process.env, CODEC_KEYS: '', CAMPAIGN_STORE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForOutput(dev: DevProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(dev.output());
    if (match) return match;
    if (Date.now() > deadline || dev.child.exitCode !== null)
      throw new Error(`dev never printed ${pattern}; output:\n${dev.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('tango-campaigns dev', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tango-campaigns-dev-'));
  const started: DevProcess[] = [];
  after(async () => {
    for (const dev of started)
      if (dev.child.exitCode === null) {
        dev.child.kill('SIGKILL');
        await dev.exited;
      }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the sample campaign to the end, reports it, and stops everything on SIGINT', async () => {
    const [temporal, ui, simulator, webhook, codec] = await freePorts(5);
    const dev = spawnDev([
      '--sample-items',
      '200',
      '--correction-window',
      '5s',
      '--data-dir',
      dataDir,
      '--temporal-port',
      String(temporal),
      '--ui-port',
      String(ui),
      '--simulator-port',
      String(simulator),
      '--webhook-port',
      String(webhook),
      '--codec-port',
      String(codec),
    ]);
    started.push(dev);

    const link = await waitForOutput(
      dev,
      /Temporal UI: (http:\S+\/workflows\/campaign-(sample-\S+))/,
      120_000,
    );
    assert.equal(link[1], `http://127.0.0.1:${ui}/namespaces/default/workflows/campaign-${link[2]}`);
    const report = await waitForOutput(dev, /Report: (\S+report\.json)/, 180_000);
    await waitForOutput(dev, /Press Ctrl\+C to stop/, 10_000);

    // 200 items: per 100, 4 transient (delivered next round), 3 wrong utid (fixed automatically),
    // 1 blocked, 1 bounce, 1 over the maximum (given up).
    const rows = (
      JSON.parse(readFileSync(report[1]!, 'utf8')) as {
        items: { state: string; externalRefLineItemID: string }[];
      }
    ).items;
    assert.equal(rows.length, 200);
    assert.equal(new Set(rows.map((row) => row.externalRefLineItemID)).size, 200);
    assert.equal(rows.filter((row) => row.state === 'delivered').length, 194);
    assert.equal(rows.filter((row) => row.state === 'given-up').length, 6);
    assert.match(
      dev.output(),
      /completed: 194 delivered, 6 given up, 0 cancelled of 200 \(6 fixed automatically/,
    );

    // The stack's UI and codec server answer while it runs.
    assert.equal((await fetch(`http://127.0.0.1:${ui}/`)).ok, true);
    const children = descendants(dev.child.pid!);
    assert.ok(children.length >= 1, 'the Temporal dev server runs as a child process');

    dev.child.kill('SIGINT');
    const code = await Promise.race([
      dev.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 30_000)),
    ]);
    assert.equal(code, 0, `exit ${code}; output:\n${dev.output()}`);
    assert.match(dev.output(), /Stopped\./);
    // Give the kernel a moment to reap them, then name any survivor.
    const deadline = Date.now() + 5000;
    while (children.some(alive) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const survivors = children.filter(alive).map((pid) => {
      try {
        return execFileSync('ps', ['-o', 'pid=,stat=,cmd=', '-p', String(pid)], { encoding: 'utf8' }).trim();
      } catch {
        return String(pid);
      }
    });
    assert.deepEqual(survivors, [], 'every process the stack started is gone');
    for (const port of [temporal, ui, simulator, webhook, codec]) {
      const server = await listen(port); // each port is free again
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('names the port, its role and the flag to change it when a port is taken', async () => {
    const blocker = await listen();
    const taken = (blocker.address() as { port: number }).port;
    try {
      const dev = spawnDev(['--sample-items', '0', '--data-dir', dataDir, '--simulator-port', String(taken)]);
      started.push(dev);
      const code = await dev.exited;
      assert.equal(code, 1);
      assert.match(
        dev.output(),
        new RegExp(`port ${taken} \\(Tango simulator\\) is already in use.*--simulator-port`),
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
