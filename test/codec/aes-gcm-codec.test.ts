// The AES-256-GCM payload codec and its configuration: round trip, rotation, tampering, unknown keys.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { type Payload, defaultPayloadConverter } from '@temporalio/common';
// The SDK's own protobuf classes (a dependency of @temporalio/common), as the reference to check against.
import proto from '@temporalio/proto';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA_KEY,
  PayloadDecryptionError,
  codecDataConverter,
  loadCodecConfig,
} from '../../src/codec/index.ts';
import { decodePayloadBytes, encodePayloadBytes } from '../../src/codec/payload-bytes.ts';
import { ConfigError } from '../../src/tango/config.ts';

const { temporal } = proto;
const keyA = { id: 'k2026a', key: randomBytes(32) };
const keyB = { id: 'k2026b', key: randomBytes(32) };
const recipient = { email: 'ada.lovelace@example.com', firstName: 'Ada', amount: 25 };

function text(bytes: Uint8Array | null | undefined): string {
  return Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
}

describe('AesGcmPayloadCodec', () => {
  it('round-trips a payload and stores neither the value nor its original metadata in clear', async () => {
    const codec = new AesGcmPayloadCodec([keyA]);
    const original = defaultPayloadConverter.toPayload(recipient);
    const [encrypted] = await codec.encode([original]);
    assert.ok(encrypted);
    assert.deepEqual(Object.keys(encrypted.metadata ?? {}).sort(), ['encoding', KEY_ID_METADATA_KEY]);
    assert.equal(text(encrypted.metadata?.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(encrypted.metadata?.[KEY_ID_METADATA_KEY]), 'k2026a');
    assert.ok(!Buffer.from(encrypted.data ?? []).includes('ada.lovelace'));
    assert.ok(!Buffer.from(encrypted.data ?? []).includes('json/plain'));

    const [decoded] = await codec.decode([encrypted]);
    assert.ok(decoded);
    assert.equal(text(decoded.metadata?.encoding), 'json/plain');
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded), recipient);
  });

  it('uses a fresh nonce per payload, so equal values give different ciphertexts', async () => {
    const codec = new AesGcmPayloadCodec([keyA]);
    const payload = defaultPayloadConverter.toPayload(recipient);
    const [first, second] = await codec.encode([payload, payload]);
    assert.notDeepEqual(Buffer.from(first?.data ?? []), Buffer.from(second?.data ?? []));
  });

  it('after rotation encrypts with the new key and still decrypts what the old key encrypted', async () => {
    const before = new AesGcmPayloadCodec([keyA]);
    const [old] = await before.encode([defaultPayloadConverter.toPayload(recipient)]);
    assert.ok(old);

    const rotated = new AesGcmPayloadCodec([keyB, keyA]);
    assert.equal(rotated.currentKeyId, 'k2026b');
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload('new')]);
    assert.equal(text(fresh?.metadata?.[KEY_ID_METADATA_KEY]), 'k2026b');
    const [oldDecoded, freshDecoded] = await rotated.decode([old, fresh as Payload]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(oldDecoded as Payload), recipient);
    assert.equal(defaultPayloadConverter.fromPayload(freshDecoded as Payload), 'new');
  });

  it('detects a changed byte anywhere in the ciphertext, nonce or tag', async () => {
    const codec = new AesGcmPayloadCodec([keyA]);
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(recipient)]);
    const data = Buffer.from(encrypted?.data ?? []);
    for (const position of [0, 12, Math.floor(data.length / 2), data.length - 1]) {
      const altered = Buffer.from(data);
      altered[position] = (altered[position] ?? 0) ^ 0x01;
      await assert.rejects(
        codec.decode([{ ...encrypted, data: altered }]),
        (error: unknown) =>
          error instanceof PayloadDecryptionError &&
          /k2026a.*failed authentication: it was altered/.test(error.message),
      );
    }
    await assert.rejects(codec.decode([{ ...encrypted, data: data.subarray(0, 20) }]), /truncated: 20 bytes/);
  });

  it('rejects a payload whose key id names another known key (the tag does not verify)', async () => {
    const codec = new AesGcmPayloadCodec([keyA, keyB]);
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(recipient)]);
    const relabelled = {
      ...encrypted,
      metadata: { ...encrypted?.metadata, [KEY_ID_METADATA_KEY]: Buffer.from('k2026b') },
    };
    await assert.rejects(codec.decode([relabelled]), /key "k2026b".*failed authentication/);
  });

  it('names an unknown key id and what to do, without listing the configured ids', async () => {
    const [encrypted] = await new AesGcmPayloadCodec([keyA]).encode([defaultPayloadConverter.toPayload(1)]);
    await assert.rejects(
      new AesGcmPayloadCodec([keyB]).decode([encrypted as Payload]),
      (error: unknown) =>
        error instanceof PayloadDecryptionError &&
        error.keyId === 'k2026a' &&
        error.unknownKey &&
        !error.message.includes('k2026b') &&
        /encrypted with key "k2026a", which is not among the configured keys; add it to CODEC_KEYS/.test(
          error.message,
        ),
    );
    const noKeyId = { ...encrypted, metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING) } };
    await assert.rejects(new AesGcmPayloadCodec([keyA]).decode([noKeyId]), /no "encryption-key-id" metadata/);
  });

  it('passes payloads that are not encrypted through decode unchanged', async () => {
    const plain = defaultPayloadConverter.toPayload(recipient);
    const [decoded] = await new AesGcmPayloadCodec([keyA]).decode([plain]);
    assert.equal(decoded, plain);
  });

  it('refuses keys that are not 32 bytes', () => {
    assert.throws(
      () => new AesGcmPayloadCodec([{ id: 'short', key: randomBytes(16) }]),
      /"short" is 16 bytes, not 32/,
    );
    assert.throws(() => new AesGcmPayloadCodec([]), /at least one key/);
  });
});

describe('Payload protobuf bytes', () => {
  it('match what the SDK protobuf library writes and reads', () => {
    const payload = {
      metadata: { encoding: Buffer.from('json/plain'), 'x-long': randomBytes(300), empty: new Uint8Array() },
      data: Buffer.from(JSON.stringify({ ...recipient, note: 'é'.repeat(200) })),
    };
    const ours = encodePayloadBytes(payload);
    const reference = temporal.api.common.v1.Payload.decode(ours);
    assert.deepEqual(Buffer.from(reference.data), payload.data);
    assert.deepEqual(Buffer.from(reference.metadata['x-long'] ?? []), payload.metadata['x-long']);
    assert.equal(reference.metadata.empty?.length, 0);

    // external_payloads (field 3, with a varint inside) is a field we do not know and must skip.
    const withExternal = temporal.api.common.v1.Payload.fromObject({
      ...payload,
      externalPayloads: [{ sizeBytes: 1234 }],
    });
    const written = temporal.api.common.v1.Payload.encode(withExternal).finish();
    const back = decodePayloadBytes(written);
    assert.deepEqual(Buffer.from(back.data ?? []), payload.data);
    assert.deepEqual(Object.keys(back.metadata ?? {}).sort(), ['empty', 'encoding', 'x-long']);
    assert.deepEqual(Buffer.from(back.metadata?.['x-long'] ?? []), payload.metadata['x-long']);
  });

  it('rejects bytes that are not a Payload message', () => {
    assert.throws(() => decodePayloadBytes(Buffer.from([0x0a, 0x05, 0x01])), /runs past the end/);
  });
});

describe('loadCodecConfig', () => {
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');

  it('has encryption off and local-UI defaults when nothing is set', () => {
    const config = loadCodecConfig({});
    assert.deepEqual(config, {
      keys: [],
      serverToken: undefined,
      corsOrigins: ['http://localhost:8233'],
      serverPort: 8888,
    });
    assert.deepEqual(codecDataConverter(config), {});
  });

  it('reads keys in order (first = current), token, origins and port', () => {
    const config = loadCodecConfig({
      CODEC_KEYS: ` new:${k1}, old:${k2} `,
      CODEC_SERVER_TOKEN: 'a-long-enough-token-123',
      CODEC_SERVER_CORS_ORIGIN: 'http://localhost:8233,https://temporal.example.com',
      CODEC_SERVER_PORT: '0',
    });
    assert.deepEqual(
      config.keys.map((key) => [key.id, key.key.toString('base64')]),
      [
        ['new', k1],
        ['old', k2],
      ],
    );
    assert.equal(config.serverToken, 'a-long-enough-token-123');
    assert.deepEqual(config.corsOrigins, ['http://localhost:8233', 'https://temporal.example.com']);
    assert.equal(config.serverPort, 0);
    const converter = codecDataConverter(config);
    assert.equal((converter.payloadCodecs?.[0] as AesGcmPayloadCodec).currentKeyId, 'new');
  });

  const bad: [string, Record<string, string>, string, RegExp][] = [
    ['no separator', { CODEC_KEYS: k1 }, 'CODEC_KEYS', /entry 1 is not "<keyId>:<base64 key>"/],
    [
      'a 16-byte key',
      { CODEC_KEYS: `a:${randomBytes(16).toString('base64')}` },
      'CODEC_KEYS',
      /exactly 32 bytes/,
    ],
    [
      'a typo in the key',
      { CODEC_KEYS: `a:${k1.slice(0, 20)}!${k1.slice(21)}` },
      'CODEC_KEYS',
      /key "a" must be/,
    ],
    ['a bad key id', { CODEC_KEYS: `has space:${k1}` }, 'CODEC_KEYS', /entry 1: a key id is/],
    ['a repeated key id', { CODEC_KEYS: `a:${k1},a:${k2}` }, 'CODEC_KEYS', /"a" appears twice/],
    ['a short token', { CODEC_SERVER_TOKEN: 'secret' }, 'CODEC_SERVER_TOKEN', /at least 16/],
    [
      'an origin with a path',
      { CODEC_SERVER_CORS_ORIGIN: 'http://localhost:8233/' },
      'CODEC_SERVER_CORS_ORIGIN',
      /not an origin/,
    ],
    ['a port out of range', { CODEC_SERVER_PORT: '70000' }, 'CODEC_SERVER_PORT', /not a port/],
  ];
  for (const [what, env, variable, message] of bad) {
    it(`names ${variable} for ${what}`, () => {
      assert.throws(
        () => loadCodecConfig(env),
        (error: unknown) =>
          error instanceof ConfigError && error.variable === variable && message.test(error.message),
      );
    });
  }
});
