// Opens the configured campaign store from a URL. Backends register a URL scheme here, so an object
// store (s3://bucket/prefix) plugs in without touching the callers.
import path from 'node:path';
import { z } from 'zod';
import { FileSystemStore } from './filesystem.ts';
import { memoryStore } from './memory.ts';
import { type CampaignStore, StoreError } from './store.ts';

export const DEFAULT_STORE_URL = 'file://.data/store';

/** Builds a store for a URL of its scheme; may be async (an SDK loaded on demand, a bucket checked). */
export type StoreFactory = (url: string) => CampaignStore | Promise<CampaignStore>;

const factories = new Map<string, StoreFactory>();

/**
 * Registers the backend for a scheme such as "s3" (without "://"). Registering a scheme twice replaces
 * the earlier factory, which lets tests substitute a backend.
 */
export function registerStoreScheme(scheme: string, factory: StoreFactory): void {
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme))
    throw new StoreError(`Invalid store URL scheme "${scheme}": expected something like "s3" (no "://")`);
  factories.set(scheme, factory);
}

export function registeredStoreSchemes(): string[] {
  return [...factories.keys()].sort();
}

/**
 * The directory a file:// store URL names. `file://.data/store` and `file://relative/dir` are relative
 * to `cwd` (a convenience the standard file URL form lacks); `file:///abs/dir` and
 * `file://localhost/abs/dir` are absolute. Percent-escapes are decoded.
 */
export function fileStoreDirectory(url: string, cwd: string = process.cwd()): string {
  if (!url.startsWith('file://')) throw new StoreError(`Not a file:// store URL: "${url}"`);
  let rest = url.slice('file://'.length);
  if (rest.startsWith('localhost/')) rest = rest.slice('localhost'.length);
  if (rest.includes('?') || rest.includes('#'))
    throw new StoreError(`Store URL "${url}" must not have a query or fragment`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    throw new StoreError(`Store URL "${url}" has an invalid percent-escape`);
  }
  if (decoded === '') throw new StoreError(`Store URL "${url}" names no directory`);
  return path.resolve(cwd, decoded);
}

registerStoreScheme('file', (url) => new FileSystemStore(fileStoreDirectory(url)));
// Tests and dry runs: memory://<name>, shared by everything in this process that opens the same name.
registerStoreScheme('memory', (url) => memoryStore(url.slice('memory://'.length) || 'default'));
// Loaded on first use so that filesystem-only deployments never load the AWS SDK; settings come the AWS way.
registerStoreScheme('s3', async (url) => (await import('./s3-store.ts')).openS3Store(url, process.env));

export async function openStore(url: string = DEFAULT_STORE_URL): Promise<CampaignStore> {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (!match)
    throw new StoreError(
      `Campaign store URL "${url}" has no scheme: use file://<directory> (for example ${DEFAULT_STORE_URL})` +
        (registeredStoreSchemes().length > 1 ? ` or one of ${registeredStoreSchemes().join(', ')}` : ''),
    );
  const scheme = match[1]!.toLowerCase();
  const factory = factories.get(scheme);
  if (!factory)
    throw new StoreError(
      `Unsupported campaign store URL scheme "${scheme}://" in "${url}": supported schemes are ` +
        registeredStoreSchemes()
          .map((s) => `${s}://`)
          .join(', '),
    );
  return factory(url);
}

export interface StoreConfig {
  /** CAMPAIGN_STORE: where campaign items, failed-item pages and reports are kept. */
  url: string;
}

const storeEnvSchema = z.object({
  CAMPAIGN_STORE: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z][A-Za-z0-9+.-]*:\/\/./,
      'expected a URL such as file://.data/store or s3://bucket/prefix',
    )
    .optional(),
});

/** Reads CAMPAIGN_STORE (default file://.data/store); an empty value counts as unset. */
export function loadStoreConfig(env: Record<string, string | undefined>): StoreConfig {
  const raw = env.CAMPAIGN_STORE === '' ? undefined : env.CAMPAIGN_STORE;
  const parsed = storeEnvSchema.safeParse({ CAMPAIGN_STORE: raw });
  if (!parsed.success)
    throw new StoreError(
      `CAMPAIGN_STORE=${JSON.stringify(raw)} is invalid: ${parsed.error.issues[0]?.message ?? 'bad value'}`,
    );
  return { url: parsed.data.CAMPAIGN_STORE ?? DEFAULT_STORE_URL };
}
