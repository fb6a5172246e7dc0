// A scheduled campaign's --source can name only what the worker allows: files under
// CAMPAIGN_SOURCE_ROOTS (symlinks resolved and re-checked), https URLs on CAMPAIGN_SOURCE_HOSTS (no
// redirect off the host, a size cap, a timeout). Each test shows an attack failing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:https';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import {
  NO_SOURCES,
  type SourceLimits,
  createSourceActivities,
  loadSourceLimits,
} from '../../src/activities/sources.ts';
import { memoryStore } from '../../src/store/memory.ts';

const CSV = 'externalRefLineItemID,utid,amount,deliveryMethod\na-1,U000001,5,NONE\na-2,U000001,7,NONE\n';

let dir: string;
let root: string;
let outside: string;

async function load(location: string, limits: SourceLimits) {
  const { loadCampaignSource } = createSourceActivities(memoryStore(`sources-${Math.random()}`), limits);
  return loadCampaignSource({ campaignId: 'c', source: { location } });
}

async function refusal(location: string, limits: SourceLimits): Promise<string> {
  try {
    await load(location, limits);
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, 'InvalidCampaignInput');
    assert.equal(error.nonRetryable, true);
    return error.message;
  }
  assert.fail(`${location} was loaded`);
}

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sources-'));
  root = path.join(dir, 'root');
  outside = path.join(dir, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(path.join(root, 'good.csv'), CSV);
  writeFileSync(path.join(outside, 'secret.csv'), 'SECRET_TOKEN=abc123,x\n');
  symlinkSync(path.join(outside, 'secret.csv'), path.join(root, 'link-out.csv'));
  symlinkSync(path.join(root, 'good.csv'), path.join(root, 'link-in.csv'));
  symlinkSync(outside, path.join(root, 'dir-link'));
  mkdirSync(path.join(root, 'sub.csv'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('file sources', () => {
  it('are refused when no root is configured, naming the variable', async () => {
    const message = await refusal(path.join(root, 'good.csv'), NO_SOURCES);
    assert.match(message, /CAMPAIGN_SOURCE_ROOTS/);
  });

  it('read a file inside a root, also through a symlink that stays inside', async () => {
    const limits = { ...NO_SOURCES, roots: [root] };
    assert.equal((await load(path.join(root, 'good.csv'), limits)).items, 2);
    assert.equal((await load(path.join(root, 'link-in.csv'), limits)).items, 2);
  });

  it('refuse /proc/self/environ and never echo its contents', async () => {
    const message = await refusal('/proc/self/environ', { ...NO_SOURCES, roots: [root] });
    assert.match(message, /not inside CAMPAIGN_SOURCE_ROOTS/);
    assert.ok(!message.includes('PATH='), message);
  });

  it('refuse symlinks and .. that lead out of the root', async () => {
    const limits = { ...NO_SOURCES, roots: [root] };
    for (const location of [
      path.join(root, 'link-out.csv'),
      path.join(root, 'dir-link', 'secret.csv'),
      `${root}/../outside/secret.csv`,
      `file://${root}/../outside/secret.csv`,
    ]) {
      const message = await refusal(location, limits);
      assert.match(message, /not inside CAMPAIGN_SOURCE_ROOTS/, location);
      assert.ok(!message.includes('abc123'), message);
    }
    assert.match(await refusal('relative.csv', limits), /absolute path/);
    assert.match(await refusal(path.join(root, 'sub.csv'), limits), /not a regular file/);
    // A root that is a prefix of another directory's name does not open that directory.
    assert.match(await refusal(`${root}-other/x.csv`, limits), /cannot be read|not inside/);
  });

  it('stop at CAMPAIGN_SOURCE_MAX_BYTES', async () => {
    const message = await refusal(path.join(root, 'good.csv'), {
      ...NO_SOURCES,
      roots: [root],
      maxBytes: 20,
    });
    assert.match(message, /larger than 20 bytes.*CAMPAIGN_SOURCE_MAX_BYTES/);
  });
});

describe('URL sources', () => {
  let server: Server;
  let port: number;
  let ca: Buffer;
  let hang: () => void = () => undefined;

  before(async () => {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,DNS:other.localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(cert);
    server = createServer({ key: readFileSync(key), cert: ca }, (request, response) => {
      const url = new URL(request.url ?? '/', 'https://localhost');
      if (url.pathname === '/items.csv') response.end(CSV);
      else if (url.pathname === '/same-host') response.writeHead(302, { location: '/items.csv' }).end();
      else if (url.pathname === '/other-host')
        response.writeHead(302, { location: `https://127.0.0.1:${port}/items.csv` }).end();
      else if (url.pathname === '/to-http')
        response.writeHead(302, { location: `http://localhost:${port}/items.csv` }).end();
      else if (url.pathname === '/big')
        response.writeHead(200, { 'content-length': String(10_000) }).end('x'.repeat(10_000));
      else if (url.pathname === '/big-chunked') {
        response.writeHead(200);
        for (let i = 0; i < 100; i += 1) response.write('y'.repeat(1000));
        response.end();
      } else if (url.pathname === '/slow') {
        response.writeHead(200);
        response.write('externalRefLineItemID,utid,amount,deliveryMethod\n');
        hang = () => response.end();
      } else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    hang();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const limits = (): SourceLimits => ({ ...NO_SOURCES, hosts: ['localhost'], ca });

  it('fetch https from an allowed host, following a redirect on the same host', async () => {
    assert.equal((await load(`https://localhost:${port}/items.csv`, limits())).items, 2);
    assert.equal((await load(`https://localhost:${port}/same-host?format=.csv`, limits())).items, 2);
  });

  it('are refused without CAMPAIGN_SOURCE_HOSTS, over http, and for hosts not listed (SSRF)', async () => {
    assert.match(
      await refusal(`https://localhost:${port}/items.csv`, { ...NO_SOURCES, ca }),
      /CAMPAIGN_SOURCE_HOSTS/,
    );
    assert.match(await refusal(`http://localhost:${port}/items.csv`, limits()), /only https/);
    assert.match(
      await refusal('https://169.254.169.254/latest/meta-data/', limits()),
      /169\.254\.169\.254 is not in CAMPAIGN_SOURCE_HOSTS/,
    );
    assert.match(
      await refusal(`https://127.0.0.1:${port}/items.csv`, limits()),
      /not in CAMPAIGN_SOURCE_HOSTS/,
    );
    assert.match(await refusal(`https://user:pw@localhost:${port}/items.csv`, limits()), /credentials/);
  });

  it('do not follow a redirect off the host or to http', async () => {
    assert.match(await refusal(`https://localhost:${port}/other-host`, limits()), /redirects off the host/);
    assert.match(await refusal(`https://localhost:${port}/to-http`, limits()), /redirects off the host/);
  });

  it('stop at the size cap, announced or not', async () => {
    const small = { ...limits(), maxBytes: 5000 };
    assert.match(
      await refusal(`https://localhost:${port}/big`, small),
      /more than 5000.*CAMPAIGN_SOURCE_MAX_BYTES/,
    );
    assert.match(await refusal(`https://localhost:${port}/big-chunked`, small), /larger than 5000 bytes/);
  });

  it('time out', async () => {
    const started = Date.now();
    await assert.rejects(
      load(`https://localhost:${port}/slow`, { ...limits(), timeoutMs: 500 }),
      /timeout|timed out/i,
    );
    assert.ok(Date.now() - started < 5000);
  });
});

describe('CAMPAIGN_SOURCE_* variables', () => {
  it('parse roots, hosts, size and timeout, and name the variable on a bad value', () => {
    const limits = loadSourceLimits({
      CAMPAIGN_SOURCE_ROOTS: '/srv/campaigns, /data/in',
      CAMPAIGN_SOURCE_HOSTS: 'Files.Example.com',
      CAMPAIGN_SOURCE_MAX_BYTES: '1000',
      CAMPAIGN_SOURCE_TIMEOUT_SECONDS: '30',
    });
    assert.deepEqual(limits, {
      roots: ['/srv/campaigns', '/data/in'],
      hosts: ['files.example.com'],
      maxBytes: 1000,
      timeoutMs: 30_000,
    });
    assert.deepEqual(loadSourceLimits({}), NO_SOURCES);
    assert.throws(() => loadSourceLimits({ CAMPAIGN_SOURCE_ROOTS: 'relative' }), /CAMPAIGN_SOURCE_ROOTS/);
    assert.throws(
      () => loadSourceLimits({ CAMPAIGN_SOURCE_HOSTS: 'https://x.test/' }),
      /CAMPAIGN_SOURCE_HOSTS/,
    );
    assert.throws(() => loadSourceLimits({ CAMPAIGN_SOURCE_MAX_BYTES: 'lots' }), /CAMPAIGN_SOURCE_MAX_BYTES/);
  });
});
