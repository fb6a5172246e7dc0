// `tango-campaigns codec-server`: starts from the CODEC_* variables on loopback, decrypts what the
// worker's codec encrypted (with the bearer token when one is set), and refuses to listen off
// loopback without a token or to start without keys.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, type RunningCodecServer } from '../../src/codec/index.ts';
import { runCodecServerCli } from '../../src/codec/cli.ts';
import { main } from '../../src/cli/main.ts';

const key = randomBytes(32);
const CODEC_KEYS = `ops-1:${key.toString('base64')}`;
const TOKEN = 'codec-token-0123456789abcdef';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (text: string) => void out.push(text),
    stderr: (text: string) => void err.push(text),
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

/** Runs the command until `use` is done with the started server; returns the exit code. */
async function withCommand(
  args: string[],
  env: Record<string, string>,
  use: (server: RunningCodecServer) => Promise<void>,
): Promise<{ code: number; out: string }> {
  const io = capture();
  let stop!: (signal: string) => void;
  const stopSignal = new Promise<string>((resolve) => (stop = resolve));
  let failure: unknown;
  const code = await runCodecServerCli(args, {
    ...io,
    env,
    stopSignal,
    onStarted: (server) => {
      use(server)
        .catch((error: unknown) => (failure = error))
        .finally(() => stop('SIGTERM'));
    },
  });
  if (failure) throw failure;
  return { code, out: io.out() };
}

async function encrypted(value: unknown) {
  const [payload] = await new AesGcmPayloadCodec([{ id: 'ops-1', key }]).encode([
    defaultPayloadConverter.toPayload(value),
  ]);
  return {
    metadata: Object.fromEntries(
      Object.entries(payload?.metadata ?? {}).map(([name, bytes]) => [
        name,
        Buffer.from(bytes).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload?.data ?? []).toString('base64'),
  };
}

describe('tango-campaigns codec-server', () => {
  it('serves /decode on loopback from CODEC_KEYS, with the bearer token when CODEC_SERVER_TOKEN is set', async () => {
    const body = JSON.stringify({ payloads: [await encrypted({ secret: 'recipient@example.test' })] });
    const { code, out } = await withCommand(
      ['--port', '0'],
      { CODEC_KEYS, CODEC_SERVER_TOKEN: TOKEN },
      async (server) => {
        assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        const refused = await fetch(`${server.url}/decode`, { method: 'POST', body });
        assert.equal(refused.status, 401);
        await refused.arrayBuffer();
        const decoded = await fetch(`${server.url}/default/decode`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body,
        });
        assert.equal(decoded.status, 200);
        const { payloads } = (await decoded.json()) as {
          payloads: { metadata: Record<string, string>; data: string }[];
        };
        const value = defaultPayloadConverter.fromPayload({
          metadata: Object.fromEntries(
            Object.entries(payloads[0]!.metadata).map(([name, text]) => [name, Buffer.from(text, 'base64')]),
          ),
          data: Buffer.from(payloads[0]!.data, 'base64'),
        });
        assert.deepEqual(value, { secret: 'recipient@example.test' });
      },
    );
    assert.equal(code, 0);
    assert.match(out, /Codec server listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /bearer token: required/);
    assert.ok(!out.includes(TOKEN) && !out.includes(key.toString('base64')), 'no secret printed');
    assert.match(out, /Codec server stopped \(SIGTERM\)/);
  });

  it('refuses to listen off loopback without a token, and to start without keys', async () => {
    const open = capture();
    assert.equal(
      await runCodecServerCli(['--host', '0.0.0.0', '--port', '0'], { ...open, env: { CODEC_KEYS } }),
      2,
    );
    assert.match(open.err(), /CODEC_SERVER_TOKEN: is required off loopback/);
    const viaEnv = capture();
    assert.equal(
      await runCodecServerCli([], {
        ...viaEnv,
        env: { CODEC_KEYS, CODEC_SERVER_HOST: '::', CODEC_SERVER_PORT: '0' },
      }),
      2,
    );
    assert.match(viaEnv.err(), /CODEC_SERVER_TOKEN/);
    const noKeys = capture();
    assert.equal(await runCodecServerCli(['--port', '0'], { ...noKeys, env: {} }), 2);
    assert.match(noKeys.err(), /CODEC_KEYS: is required/);
    const badKey = capture();
    assert.equal(await runCodecServerCli([], { ...badKey, env: { CODEC_KEYS: 'ops-1:short' } }), 2);
    assert.match(badKey.err(), /CODEC_KEYS/);
    assert.ok(!badKey.err().includes('short'), 'the key is not echoed');
    const badFlag = capture();
    assert.equal(await runCodecServerCli(['--bogus'], { ...badFlag, env: {} }), 2);
    // With a token it may listen on every interface.
    const { code } = await withCommand(
      ['--host', '0.0.0.0', '--port', '0'],
      { CODEC_KEYS, CODEC_SERVER_TOKEN: TOKEN },
      async () => undefined,
    );
    assert.equal(code, 0);
  });

  it('is listed by tango-campaigns --help', async () => {
    let text = '';
    const io = {
      stdout: { write: (chunk: string) => (text += chunk) },
      stderr: { write: () => true },
      env: {},
      cwd: process.cwd(),
    };
    assert.equal(await main(['--help'], io), 0);
    assert.match(text, /codec-server\s+serve the payload codec/);
  });
});
