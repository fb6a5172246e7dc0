// The OAuth token shared by every worker (and the CLI), kept in the claim-check store: one object
// for the token (AES-256-GCM encrypted with the current CODEC_KEYS key when keys are configured),
// one for the renewal lease. The key names a hash of the credentials, never the credentials.
import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { CodecKey } from '../codec/aes-gcm-codec.ts';
import type { TangoAuthConfig } from '../tango/config.ts';
import type { CachedToken, TokenCache, TokenLease } from '../tango/auth.ts';
import { type CampaignStore, StoreNotFoundError } from './store.ts';

/** A lease older than this is taken for abandoned (its holder died while renewing). */
export const TOKEN_LEASE_TTL_MS = 30_000;

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const tokenSchema = z.object({
  accessToken: z.string().min(1),
  expiresAtMs: z.number(),
  refreshAtMs: z.number(),
});

const entrySchema = z.union([
  z.object({ version: z.literal(1), token: tokenSchema }),
  z.object({
    version: z.literal(1),
    encrypted: z.object({ keyId: z.string(), data: z.string() }),
  }),
]);

const leaseSchema = z.object({ holder: z.string(), expiresAtMs: z.number() });

/** The store prefix of one set of OAuth credentials (token endpoint, client, user, audience, scope). */
export function tokenCachePrefix(auth: Extract<TangoAuthConfig, { kind: 'oauth' }>): string {
  const identity = [auth.tokenUrl, auth.clientId, auth.username, auth.audience, auth.scope];
  const digest = createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 24);
  return `tango/oauth/${digest}/`;
}

export interface StoreTokenCacheOptions {
  store: CampaignStore;
  /** Objects go under this prefix (tokenCachePrefix). */
  prefix: string;
  /** CODEC_KEYS: the first encrypts, any of them decrypts. Empty: the token is stored in clear. */
  keys?: readonly CodecKey[];
  /** Names the lease holder, for operators reading the lock object. */
  holder?: string;
  leaseTtlMs?: number;
  now?: () => number;
}

export class StoreTokenCache implements TokenCache {
  readonly tokenKey: string;
  readonly leaseKey: string;
  readonly #store: CampaignStore;
  readonly #keys: readonly CodecKey[];
  readonly #holder: string;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: StoreTokenCacheOptions) {
    this.#store = options.store;
    this.tokenKey = `${options.prefix}token.json`;
    this.leaseKey = `${options.prefix}renewal.lock`;
    this.#keys = options.keys ?? [];
    this.#holder = options.holder ?? `${process.pid}`;
    this.#ttlMs = options.leaseTtlMs ?? TOKEN_LEASE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  async read(): Promise<CachedToken | undefined> {
    let raw: Buffer;
    try {
      raw = await this.#store.get(this.tokenKey);
    } catch (error) {
      if (error instanceof StoreNotFoundError) return undefined;
      throw error;
    }
    return this.#decode(raw);
  }

  async write(token: CachedToken): Promise<void> {
    const plain = JSON.stringify(tokenSchema.parse(token));
    const current = this.#keys[0];
    const entry = current
      ? { version: 1, encrypted: { keyId: current.id, data: this.#encrypt(current, plain) } }
      : { version: 1, token: JSON.parse(plain) as unknown };
    await this.#store.put(this.tokenKey, JSON.stringify(entry));
  }

  async drop(accessToken: string): Promise<void> {
    const stored = await this.read();
    if (stored?.accessToken === accessToken) await this.#store.delete(this.tokenKey);
  }

  async lease(): Promise<TokenLease | undefined> {
    const id = `${this.#holder}/${randomUUID()}`;
    const body = () => JSON.stringify({ holder: id, expiresAtMs: this.#now() + this.#ttlMs });
    if (await this.#store.createIfAbsent(this.leaseKey, body())) return this.#held(id);
    const existing = await this.#readLease();
    if (existing && this.#now() < existing.lease.expiresAtMs) return undefined;
    // Abandoned (or unreadable): take it over, unless another taker got there since we looked.
    const again = await this.#readLease();
    if (again?.raw !== existing?.raw) return undefined;
    await this.#store.delete(this.leaseKey);
    return (await this.#store.createIfAbsent(this.leaseKey, body())) ? this.#held(id) : undefined;
  }

  #held(id: string): TokenLease {
    return {
      release: async () => {
        // Only our own lease: after a takeover the lock belongs to someone else.
        const current = await this.#readLease();
        if (current?.lease.holder === id) await this.#store.delete(this.leaseKey);
      },
    };
  }

  async #readLease(): Promise<{ raw: string; lease: z.infer<typeof leaseSchema> } | undefined> {
    let raw: string;
    try {
      raw = (await this.#store.get(this.leaseKey)).toString('utf8');
    } catch (error) {
      if (error instanceof StoreNotFoundError) return undefined;
      throw error;
    }
    try {
      return { raw, lease: leaseSchema.parse(JSON.parse(raw)) };
    } catch {
      // Unreadable: as good as expired.
      return { raw, lease: { holder: '', expiresAtMs: 0 } };
    }
  }

  // The store key is the additional authenticated data: an entry copied to another key fails.
  #encrypt(key: CodecKey, plain: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
    cipher.setAAD(Buffer.from(this.tokenKey));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
  }

  /** Undefined for anything that is not a token this process can read: treated as no token. */
  #decode(raw: Buffer): CachedToken | undefined {
    let entry: z.infer<typeof entrySchema>;
    try {
      entry = entrySchema.parse(JSON.parse(raw.toString('utf8')));
    } catch {
      return undefined;
    }
    if ('token' in entry) {
      // With keys configured a clear-text entry is not trusted (it is replaced by an encrypted one).
      return this.#keys.length === 0 ? entry.token : undefined;
    }
    const key = this.#keys.find((candidate) => candidate.id === entry.encrypted.keyId);
    if (!key) return undefined;
    const data = Buffer.from(entry.encrypted.data, 'base64');
    if (data.length < NONCE_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, data.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(this.tokenKey));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
      return tokenSchema.parse(JSON.parse(plain));
    } catch {
      return undefined;
    }
  }
}

/** The store-backed token cache for these credentials, or undefined for Basic auth. */
export function storeTokenCacheFor(
  store: CampaignStore,
  auth: TangoAuthConfig,
  options: Omit<StoreTokenCacheOptions, 'store' | 'prefix'> = {},
): StoreTokenCache | undefined {
  if (auth.kind !== 'oauth') return undefined;
  return new StoreTokenCache({ store, prefix: tokenCachePrefix(auth), ...options });
}
