// The codec server over real HTTP: the remote codec protocol, bearer-token auth and the UI's CORS preflight.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, type RunningCodecServer, startCodecServer } from '../../src/codec/index.ts';

const codec = new AesGcmPayloadCodec([{ id: 'ops-1', key: randomBytes(32) }]);
const UI = 'http://localhost:8233';
const TOKEN = 'test-token-0123456789abcdef';

interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}

/** A payload as the UI sends it: proto3 JSON, every bytes field base64. */
function jsonPayload(value: unknown): JsonPayload {
  const payload = defaultPayloadConverter.toPayload(value);
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, bytes]) => [
        key,
        Buffer.from(bytes).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

function valueOf(payload: JsonPayload): unknown {
  return defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(
      Object.entries(payload.metadata).map(([key, text]) => [key, Buffer.from(text, 'base64')]),
    ),
    data: Buffer.from(payload.data, 'base64'),
  });
}

function post(server: RunningCodecServer, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('codec server without a token', () => {
  let server: RunningCodecServer;
  before(async () => {
    server = await startCodecServer({ codec, corsOrigins: [UI], port: 0 });
  });
  after(async () => {
    await server?.close();
  });

  it('listens on loopback by default', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('encodes and decodes payloads in the protocol JSON, at the root and under a namespace', async () => {
    const values = [{ email: 'grace@example.com', amount: 50 }, 'plain text', 7];
    const encodeResponse = await post(server, '/encode', { payloads: values.map(jsonPayload) });
    assert.equal(encodeResponse.status, 200);
    assert.match(encodeResponse.headers.get('content-type') ?? '', /application\/json/);
    const encoded = (await encodeResponse.json()) as { payloads: JsonPayload[] };
    assert.equal(encoded.payloads.length, 3);
    for (const payload of encoded.payloads) {
      assert.equal(Buffer.from(payload.metadata.encoding ?? '', 'base64').toString(), 'binary/encrypted');
      assert.equal(Buffer.from(payload.metadata['encryption-key-id'] ?? '', 'base64').toString(), 'ops-1');
      assert.ok(!Buffer.from(payload.data, 'base64').includes('grace@example.com'));
    }

    // The CLI's --codec-endpoint 'http://host:port/{namespace}' puts the namespace in the path.
    const decodeResponse = await post(server, '/default/decode', encoded);
    assert.equal(decodeResponse.status, 200);
    const decoded = (await decodeResponse.json()) as { payloads: JsonPayload[] };
    assert.deepEqual(decoded.payloads.map(valueOf), values);
  });

  it('answers the Temporal UI preflight with the headers it sends', async () => {
    const response = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: UI,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
      },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), UI);
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    assert.match(response.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/);
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/);
    for (const header of ['content-type', 'x-namespace', 'authorization'])
      assert.ok(allowed.includes(header), header);
    assert.match(response.headers.get('vary') ?? '', /Origin/);
  });

  it('gives the allowed origin CORS headers on the actual response, and other origins none', async () => {
    const fromUi = await post(server, '/decode', { payloads: [] }, { Origin: UI });
    assert.equal(fromUi.status, 200);
    assert.equal(fromUi.headers.get('access-control-allow-origin'), UI);
    assert.deepEqual(await fromUi.json(), { payloads: [] });

    const elsewhere = await post(server, '/decode', { payloads: [] }, { Origin: 'http://evil.example' });
    assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  });

  it('rejects malformed requests with a status and a message that says what is wrong', async () => {
    const notJson = await post(server, '/decode', '{"payloads": [');
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { error: string }).error, /not JSON/);

    const notBase64 = await post(server, '/decode', {
      payloads: [{ metadata: { encoding: 'json/plain' }, data: '%%' }],
    });
    assert.equal(notBase64.status, 400);
    assert.match(
      ((await notBase64.json()) as { error: string }).error,
      /payloads\.0\.(metadata\.encoding|data): must be base64/,
    );

    const wrongShape = await post(server, '/decode', { items: [] });
    assert.equal(wrongShape.status, 400);

    assert.equal((await post(server, '/nope', { payloads: [] })).status, 404);
    const get = await fetch(`${server.url}/decode`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
  });

  it('answers 422 "unknown key id" for a key it lacks, without listing the configured ids', async () => {
    const otherCodec = new AesGcmPayloadCodec([{ id: 'retired-0', key: randomBytes(32) }]);
    const [foreign] = await otherCodec.encode([defaultPayloadConverter.toPayload('x')]);
    const body = {
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(foreign?.metadata ?? {}).map(([key, bytes]) => [
              key,
              Buffer.from(bytes).toString('base64'),
            ]),
          ),
          data: Buffer.from(foreign?.data ?? []).toString('base64'),
        },
      ],
    };
    const response = await post(server, '/decode', body);
    assert.equal(response.status, 422);
    const { error } = (await response.json()) as { error: string };
    assert.equal(error, 'decode failed: unknown key id');
    assert.ok(!error.includes('ops-1'), 'the configured key id stays private');
  });

  it('refuses a body over the limit without reading it all', async () => {
    const small = await startCodecServer({ codec, corsOrigins: [UI], port: 0, maxBodyBytes: 1024 });
    try {
      const response = await post(small, '/decode', { payloads: [jsonPayload('x'.repeat(4096))] });
      assert.equal(response.status, 413);
      // Without Content-Length (chunked), the limit still holds while streaming.
      const status = await new Promise<number>((resolve, reject) => {
        const request = httpRequest(`${small.url}/decode`, { method: 'POST' }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject);
        request.write('{"payloads":[' + '"'.padEnd(2048, 'a'));
        request.end();
      });
      assert.equal(status, 413);
    } finally {
      await small.close();
    }
  });
});

describe('codec server with a token', () => {
  let server: RunningCodecServer;
  before(async () => {
    server = await startCodecServer({ codec, token: TOKEN, corsOrigins: [UI], port: 0 });
  });
  after(async () => {
    await server?.close();
  });

  it('answers 401 without the token or with a wrong one, keeping CORS headers so the UI can show why', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong-token-0123456789' },
      { Authorization: TOKEN }, // the right token without the Bearer scheme
    ];
    for (const headers of attempts) {
      const response = await post(server, '/decode', { payloads: [] }, { Origin: UI, ...headers });
      assert.equal(response.status, 401, JSON.stringify(headers));
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal(response.headers.get('access-control-allow-origin'), UI);
      assert.match(((await response.json()) as { error: string }).error, /CODEC_SERVER_TOKEN/);
    }
  });

  it('serves requests that carry the bearer token', async () => {
    const encoded = await post(
      server,
      '/encode',
      { payloads: [jsonPayload('secret')] },
      { Authorization: `Bearer ${TOKEN}` },
    );
    assert.equal(encoded.status, 200);
    const decoded = await post(server, '/decode', await encoded.json(), { Authorization: `bearer ${TOKEN}` });
    assert.equal(decoded.status, 200);
    const body = (await decoded.json()) as { payloads: JsonPayload[] };
    assert.equal(valueOf(body.payloads[0] as JsonPayload), 'secret');
  });

  it('lets the preflight through without a token (browsers never send credentials on it)', async () => {
    const response = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: UI,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization',
      },
    });
    assert.equal(response.status, 204);
  });
});
