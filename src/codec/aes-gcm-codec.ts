// Encrypts Temporal payloads with AES-256-GCM, so recipients' personal data is stored in Temporal only
// as ciphertext; the key id travels in the payload metadata, which lets keys rotate without re-encryption.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { ConfigError } from '../tango/config.ts';
import { decodePayloadBytes, encodePayloadBytes } from './payload-bytes.ts';

/** Metadata `encoding` of an encrypted payload (the convention of Temporal's encryption samples). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata key naming the key that encrypted the payload. */
export const KEY_ID_METADATA_KEY = 'encryption-key-id';
export const DEFAULT_CODEC_SERVER_PORT = 8888;
/** The Temporal Web UI of `temporal server start-dev`. */
export const DEFAULT_CODEC_CORS_ORIGIN = 'http://localhost:8233';

const NONCE_BYTES = 12; // GCM's standard nonce; random per payload (2^32 payloads per key keeps collisions negligible)
const TAG_BYTES = 16;
const KEY_BYTES = 32; // AES-256

export interface CodecKey {
  id: string;
  key: Buffer;
}

export interface CodecConfig {
  /** Encryption keys, the current one first. Empty: payload encryption is off. */
  keys: CodecKey[];
  /** Bearer token the codec server requires; undefined: no token (bind it to loopback only). */
  serverToken: string | undefined;
  /** Browser origins (the Temporal UI) allowed to call the codec server. */
  corsOrigins: string[];
  serverPort: number;
}

/** A payload that cannot be decrypted: unknown key, tampered or truncated data. */
export class PayloadDecryptionError extends Error {
  constructor(
    message: string,
    readonly keyId: string | undefined,
    /** True when the payload names a key this codec does not hold. */
    readonly unknownKey = false,
  ) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

const keyIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'a key id is 1-64 characters of letters, digits, ".", "_" or "-"');

function parseKeys(raw: string): CodecKey[] {
  const keys: CodecKey[] = [];
  for (const [index, entry] of raw.split(',').entries()) {
    const trimmed = entry.trim();
    const separator = trimmed.indexOf(':');
    const where = `entry ${index + 1}`;
    if (separator < 0) {
      throw new ConfigError('CODEC_KEYS', `${where} is not "<keyId>:<base64 key>" (no ":")`);
    }
    const id = keyIdSchema.safeParse(trimmed.slice(0, separator));
    if (!id.success) {
      throw new ConfigError('CODEC_KEYS', `${where}: ${id.error.issues[0]?.message ?? 'invalid key id'}`);
    }
    const encoded = trimmed.slice(separator + 1);
    const key = Buffer.from(encoded, 'base64');
    // Buffer.from ignores stray characters; re-encoding catches typos and truncated copies.
    if (key.toString('base64') !== encoded || key.length !== KEY_BYTES) {
      throw new ConfigError(
        'CODEC_KEYS',
        `key "${id.data}" must be exactly ${KEY_BYTES} bytes in standard base64 (44 characters); ` +
          'generate one with `openssl rand -base64 32`',
      );
    }
    if (keys.some((existing) => existing.id === id.data)) {
      throw new ConfigError('CODEC_KEYS', `key id "${id.data}" appears twice`);
    }
    keys.push({ id: id.data, key });
  }
  return keys;
}

function parseOrigins(raw: string): string[] {
  return raw.split(',').map((value) => {
    const origin = value.trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== origin) {
      throw new ConfigError(
        'CODEC_SERVER_CORS_ORIGIN',
        `"${origin}" is not an origin like http://localhost:8233 (scheme, host and port, no path or trailing slash)`,
      );
    }
    return origin;
  });
}

/**
 * Reads the codec settings:
 * CODEC_KEYS = `<keyId>:<base64 32-byte key>[,<keyId>:<key>...]` (first = current, the rest only decrypt),
 * CODEC_SERVER_TOKEN, CODEC_SERVER_CORS_ORIGIN (comma-separated, default the local Temporal UI),
 * CODEC_SERVER_PORT (default 8888).
 */
export function loadCodecConfig(env: Record<string, string | undefined>): CodecConfig {
  const rawKeys = env.CODEC_KEYS?.trim();
  const token = env.CODEC_SERVER_TOKEN?.trim();
  if (token !== undefined && token !== '' && token.length < 16) {
    throw new ConfigError(
      'CODEC_SERVER_TOKEN',
      'must be at least 16 characters (e.g. `openssl rand -hex 32`)',
    );
  }
  const rawPort = env.CODEC_SERVER_PORT?.trim();
  const port = rawPort ? Number(rawPort) : DEFAULT_CODEC_SERVER_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('CODEC_SERVER_PORT', `"${rawPort}" is not a port number (0-65535)`);
  }
  return {
    keys: rawKeys ? parseKeys(rawKeys) : [],
    serverToken: token || undefined,
    corsOrigins: parseOrigins(env.CODEC_SERVER_CORS_ORIGIN?.trim() || DEFAULT_CODEC_CORS_ORIGIN),
    serverPort: port,
  };
}

function metadataString(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? Buffer.from(value).toString('utf8') : undefined;
}

/**
 * AES-256-GCM payload codec. Encrypts with the first key; decrypts with whichever known key the
 * payload names. The ciphertext is nonce || encrypted Payload protobuf || tag, the layout of Temporal's
 * encryption samples in other SDKs. Payloads that are not encrypted pass through decode unchanged
 * (histories from before encryption was turned on, or values typed into the UI without the codec).
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly current: CodecKey;
  private readonly keysById: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly CodecKey[]) {
    const [current] = keys;
    if (!current) throw new Error('AesGcmPayloadCodec needs at least one key (CODEC_KEYS)');
    for (const { id, key } of keys) {
      if (key.length !== KEY_BYTES)
        throw new Error(`codec key "${id}" is ${key.length} bytes, not ${KEY_BYTES}`);
    }
    this.current = current;
    this.keysById = new Map(keys.map(({ id, key }) => [id, key]));
    if (this.keysById.size !== keys.length) throw new Error('codec key ids must be unique');
  }

  /** The key new payloads are encrypted with. */
  get currentKeyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, nonce);
    const body = Buffer.concat([cipher.update(encodePayloadBytes(payload)), cipher.final()]);
    return {
      metadata: {
        encoding: Buffer.from(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA_KEY]: Buffer.from(this.current.id),
      },
      data: Buffer.concat([nonce, body, cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    if (metadataString(payload, 'encoding') !== ENCRYPTED_ENCODING) return payload;
    const keyId = metadataString(payload, KEY_ID_METADATA_KEY);
    if (keyId === undefined) {
      throw new PayloadDecryptionError(
        `encrypted payload has no "${KEY_ID_METADATA_KEY}" metadata`,
        undefined,
      );
    }
    const key = this.keysById.get(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        // The configured ids are not listed: this message can reach callers of the codec server.
        `payload was encrypted with key "${keyId}", which is not among the configured keys; ` +
          'add it to CODEC_KEYS after the current key to decrypt old data',
        keyId,
        true,
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < NONCE_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(
        `encrypted payload (key "${keyId}") is truncated: ${data.length} bytes`,
        keyId,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(
        `encrypted payload (key "${keyId}") failed authentication: it was altered, or key "${keyId}" ` +
          'in CODEC_KEYS is not the key it was encrypted with',
        keyId,
      );
    }
    return decodePayloadBytes(plain);
  }
}

/** The codec for this configuration, or undefined when no key is configured (encryption off). */
export function createPayloadCodec(config: Pick<CodecConfig, 'keys'>): AesGcmPayloadCodec | undefined {
  return config.keys.length > 0 ? new AesGcmPayloadCodec(config.keys) : undefined;
}

/** The module with the failure converter that moves messages and stack traces into encoded attributes. */
export const encryptedFailureConverterPath = fileURLToPath(
  new URL(`./failure-converter${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/**
 * `dataConverter` for Client and Worker options: when keys are configured, payloads encrypted and
 * failure messages and stack traces encoded (then encrypted) too; the default otherwise. A worker
 * built from `workflowsPath` bundles the same failure converter into its workflows.
 */
export function codecDataConverter(config: Pick<CodecConfig, 'keys'>): DataConverter {
  const codec = createPayloadCodec(config);
  return codec ? { payloadCodecs: [codec], failureConverterPath: encryptedFailureConverterPath } : {};
}
