// S3-compatible implementation of the claim-check store (AWS S3, MinIO, Ceph RGW, Cloudflare R2...), so
// that workers on several machines share campaign items, failed-item pages and reports.
// Why so long: the store contract (put, get, streams, create-if-absent, list, delete) mapped onto
// the S3 API with its error shapes, multipart streaming and server-side encryption options.
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { z } from 'zod';
import {
  type CampaignStore,
  type StoreBody,
  StoreError,
  StoreNotFoundError,
  assertValidKey,
  assertValidPrefix,
} from './store.ts';

/** Why an S3 call failed, so that callers can tell "needs a person" from "try again later". */
export type S3StoreFailure = 'missing-bucket' | 'access-denied' | 'unreachable' | 'configuration' | 'other';

export class S3StoreError extends StoreError {
  override readonly name = 'S3StoreError';
  constructor(
    message: string,
    readonly failure: S3StoreFailure,
    /** True only when retrying the same call later can succeed without anyone changing anything. */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ---------------------------------------------------------------------------------------------------
// Configuration: the store URL names the bucket and prefix; everything else comes the standard AWS way.

export interface S3StoreConfig {
  bucket: string;
  /** '' or a prefix ending in '/'; every object key is this prefix followed by the store key. */
  prefix: string;
  /** AWS_REGION / AWS_DEFAULT_REGION; undefined lets the SDK read it from the profile's config file. */
  region?: string;
  /** AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL: a MinIO, Ceph, R2 or local endpoint instead of AWS. */
  endpoint?: string;
  /** Path-style URLs (endpoint/bucket/key): AWS_S3_FORCE_PATH_STYLE, default on when an endpoint is set. */
  forcePathStyle: boolean;
  /** Static keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; otherwise the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** AWS_PROFILE, used by the SDK's default credential chain when no static keys are given. */
  profile?: string;
  /** AWS_MAX_ATTEMPTS: SDK attempts per call for throttling and 5xx (default 3). */
  maxAttempts?: number;
  /** AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED' for stores that reject the SDK's CRC headers. */
  requestChecksumCalculation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** AWS_RESPONSE_CHECKSUM_VALIDATION. */
  responseChecksumValidation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** CAMPAIGN_STORE_SSE (and _KMS_KEY_ID): server-side encryption asked for on every write. */
  serverSideEncryption?: S3ServerSideEncryption;
}

/** Server-side encryption of every object the store writes (SSE-S3 or SSE-KMS). */
export type S3ServerSideEncryption = { mode: 'AES256' } | { mode: 'aws:kms'; kmsKeyId?: string };

// S3's bucket naming rules (virtual-host safe): 3-63 characters, lowercase letters, digits, '.', '-'.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Splits `s3://bucket/some/prefix` into the bucket and a normalized prefix ('' or ending in '/'). */
export function parseS3StoreUrl(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(url);
  if (!match)
    throw new S3StoreError(
      `Invalid S3 store URL "${url}": expected s3://<bucket>/<optional/prefix> with no query or fragment`,
      'configuration',
      false,
    );
  const bucket = match[1] ?? '';
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..'))
    throw new S3StoreError(
      `Invalid bucket name "${bucket}" in store URL "${url}": S3 bucket names are 3-63 characters of ` +
        'lowercase letters, digits, "." and "-", starting and ending with a letter or digit',
      'configuration',
      false,
    );
  let prefix = (match[2] ?? '').replace(/^\/+/, '');
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  try {
    assertValidPrefix(prefix);
  } catch (error) {
    throw new S3StoreError(
      `Invalid prefix "${prefix}" in store URL "${url}": ${(error as Error).message}`,
      'configuration',
      false,
    );
  }
  return { bucket, prefix };
}

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

const s3EnvSchema = z.object({
  AWS_ENDPOINT_URL_S3: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  AWS_ENDPOINT_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  AWS_REGION: optionalText,
  AWS_DEFAULT_REGION: optionalText,
  AWS_ACCESS_KEY_ID: optionalText,
  AWS_SECRET_ACCESS_KEY: optionalText,
  AWS_SESSION_TOKEN: optionalText,
  AWS_PROFILE: optionalText,
  AWS_S3_FORCE_PATH_STYLE: optionalText.pipe(z.enum(['true', 'false', '1', '0']).optional()),
  AWS_MAX_ATTEMPTS: optionalText.pipe(
    z
      .string()
      .regex(/^\d+$/, 'expected a whole number of attempts')
      .transform(Number)
      .pipe(z.number().int().min(1).max(20))
      .optional(),
  ),
  AWS_REQUEST_CHECKSUM_CALCULATION: optionalText.pipe(
    z
      .string()
      .transform((value) => value.toUpperCase())
      .pipe(z.enum(['WHEN_SUPPORTED', 'WHEN_REQUIRED']))
      .optional(),
  ),
  AWS_RESPONSE_CHECKSUM_VALIDATION: optionalText.pipe(
    z
      .string()
      .transform((value) => value.toUpperCase())
      .pipe(z.enum(['WHEN_SUPPORTED', 'WHEN_REQUIRED']))
      .optional(),
  ),
  CAMPAIGN_STORE_SSE: optionalText.pipe(
    z.enum(['AES256', 'aws:kms'], { error: 'expected AES256 or aws:kms' }).optional(),
  ),
  CAMPAIGN_STORE_SSE_KMS_KEY_ID: optionalText,
});

/** Reads the S3 settings for a `s3://bucket/prefix` store URL from an environment object. */
export function loadS3StoreConfig(url: string, env: Record<string, string | undefined>): S3StoreConfig {
  const { bucket, prefix } = parseS3StoreUrl(url);
  const parsed = s3EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'an AWS variable');
    throw new S3StoreError(
      `${variable}=${JSON.stringify(env[variable])} is invalid for the S3 campaign store: ${issue?.message ?? 'bad value'}`,
      'configuration',
      false,
    );
  }
  const vars = parsed.data;
  if ((vars.AWS_ACCESS_KEY_ID === undefined) !== (vars.AWS_SECRET_ACCESS_KEY === undefined)) {
    const missing = vars.AWS_ACCESS_KEY_ID === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY';
    throw new S3StoreError(
      `${missing} is not set but its partner is: set both static keys, or neither to use a profile or role`,
      'configuration',
      false,
    );
  }
  if (vars.CAMPAIGN_STORE_SSE_KMS_KEY_ID && vars.CAMPAIGN_STORE_SSE !== 'aws:kms')
    throw new S3StoreError(
      'CAMPAIGN_STORE_SSE_KMS_KEY_ID is set but CAMPAIGN_STORE_SSE is not aws:kms: set CAMPAIGN_STORE_SSE=aws:kms to use the key',
      'configuration',
      false,
    );
  const sse: S3ServerSideEncryption | undefined =
    vars.CAMPAIGN_STORE_SSE === 'AES256'
      ? { mode: 'AES256' }
      : vars.CAMPAIGN_STORE_SSE === 'aws:kms'
        ? {
            mode: 'aws:kms',
            ...(vars.CAMPAIGN_STORE_SSE_KMS_KEY_ID ? { kmsKeyId: vars.CAMPAIGN_STORE_SSE_KMS_KEY_ID } : {}),
          }
        : undefined;
  const endpoint = vars.AWS_ENDPOINT_URL_S3 ?? vars.AWS_ENDPOINT_URL;
  const pathStyleFlag = vars.AWS_S3_FORCE_PATH_STYLE;
  const region = vars.AWS_REGION ?? vars.AWS_DEFAULT_REGION;
  return {
    bucket,
    prefix,
    // S3-compatible servers ignore the region but the signer needs one.
    ...(region ? { region } : endpoint ? { region: 'us-east-1' } : {}),
    ...(endpoint ? { endpoint } : {}),
    // A self-hosted endpoint rarely has wildcard DNS for bucket subdomains, so path style is its default.
    forcePathStyle:
      pathStyleFlag === undefined
        ? endpoint !== undefined
        : pathStyleFlag === 'true' || pathStyleFlag === '1',
    ...(vars.AWS_ACCESS_KEY_ID && vars.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: vars.AWS_ACCESS_KEY_ID,
            secretAccessKey: vars.AWS_SECRET_ACCESS_KEY,
            ...(vars.AWS_SESSION_TOKEN ? { sessionToken: vars.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
    ...(vars.AWS_PROFILE ? { profile: vars.AWS_PROFILE } : {}),
    ...(vars.AWS_MAX_ATTEMPTS ? { maxAttempts: vars.AWS_MAX_ATTEMPTS } : {}),
    ...(vars.AWS_REQUEST_CHECKSUM_CALCULATION
      ? { requestChecksumCalculation: vars.AWS_REQUEST_CHECKSUM_CALCULATION }
      : {}),
    ...(vars.AWS_RESPONSE_CHECKSUM_VALIDATION
      ? { responseChecksumValidation: vars.AWS_RESPONSE_CHECKSUM_VALIDATION }
      : {}),
    ...(sse ? { serverSideEncryption: sse } : {}),
  };
}

/** The SDK client for a store configuration, with timeouts so that a dead endpoint fails, not hangs. */
export function createS3Client(config: S3StoreConfig): S3Client {
  const clientConfig: S3ClientConfig = {
    forcePathStyle: config.forcePathStyle,
    // No whole-request deadline: a 50 MiB stream may legitimately take minutes. A connection that goes
    // silent for 5 minutes (no bytes either way) is dead, though, and fails rather than hangs the activity.
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 300_000 },
    ...(config.region ? { region: config.region } : {}),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    ...(config.profile ? { profile: config.profile } : {}),
    ...(config.maxAttempts ? { maxAttempts: config.maxAttempts } : {}),
    ...(config.requestChecksumCalculation
      ? { requestChecksumCalculation: config.requestChecksumCalculation }
      : {}),
    ...(config.responseChecksumValidation
      ? { responseChecksumValidation: config.responseChecksumValidation }
      : {}),
  };
  return new S3Client(clientConfig);
}

// ---------------------------------------------------------------------------------------------------
// Errors: the SDK's codes turned into messages that say what to check.

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);
const ACCESS_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'Forbidden',
]);

function statusOf(error: SdkErrorShape): number | undefined {
  return error.$metadata?.httpStatusCode;
}

function isNotFoundError(error: unknown): boolean {
  const shape = (error ?? {}) as SdkErrorShape;
  return shape.name === 'NoSuchKey' || shape.name === 'NotFound' || statusOf(shape) === 404;
}

function isConditionFailed(error: unknown): boolean {
  const shape = (error ?? {}) as SdkErrorShape;
  const code = shape.name ?? shape.code;
  return code === 'PreconditionFailed' || code === 'ConditionalRequestConflict' || statusOf(shape) === 412;
}

export interface S3StoreOptions {
  /**
   * Multipart part size for streamed bodies (S3's minimum is 5 MiB). Live memory per streamed write is
   * about 1.6 × partSize × (queueSize + 1): measured 24 MiB with 5 MiB parts and a queue of 2.
   */
  partSizeBytes?: number;
  /** Parts uploaded in parallel per streamed write. */
  queueSize?: number;
  /** Keys per ListObjectsV2 page (S3's maximum and default is 1000). */
  listPageSize?: number;
}

const MIN_PART_BYTES = 5 * 1024 * 1024;

/** A CampaignStore on one bucket and prefix. Overwrites are whole-object (S3 PUTs are atomic). */
export class S3Store implements CampaignStore {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly partSizeBytes: number;
  private readonly queueSize: number;
  private readonly listPageSize: number;
  /** The endpoint as error messages name it. */
  private readonly endpointLabel: string;
  // Set once the bucket is known to exist: HEAD on a missing bucket looks like a missing key otherwise.
  private bucketConfirmed = false;
  /** The SSE parameters of every PutObject and CreateMultipartUpload. */
  private readonly sse: {
    ServerSideEncryption?: 'AES256' | 'aws:kms';
    SSEKMSKeyId?: string;
  };

  constructor(
    readonly client: S3Client,
    config: {
      bucket: string;
      prefix: string;
      endpoint?: string;
      serverSideEncryption?: S3ServerSideEncryption;
    },
    options: S3StoreOptions = {},
  ) {
    const sse = config.serverSideEncryption;
    this.sse = !sse
      ? {}
      : sse.mode === 'AES256'
        ? { ServerSideEncryption: 'AES256' }
        : { ServerSideEncryption: 'aws:kms', ...(sse.kmsKeyId ? { SSEKMSKeyId: sse.kmsKeyId } : {}) };
    this.bucket = config.bucket;
    this.prefix = config.prefix;
    if (this.prefix !== '' && !this.prefix.endsWith('/'))
      throw new S3StoreError(
        `S3 store prefix "${this.prefix}" must be empty or end with "/"`,
        'configuration',
        false,
      );
    this.location = `s3://${this.bucket}/${this.prefix}`;
    this.endpointLabel = config.endpoint ?? 'AWS S3';
    this.partSizeBytes = Math.max(MIN_PART_BYTES, options.partSizeBytes ?? 8 * 1024 * 1024);
    this.queueSize = Math.max(1, options.queueSize ?? 2);
    this.listPageSize = Math.min(1000, Math.max(1, options.listPageSize ?? 1000));
  }

  private objectKey(key: string): string {
    assertValidKey(key);
    return this.prefix + key;
  }

  /** Turns an SDK failure into an S3StoreError that names the operation, the object and what to check. */
  private explain(error: unknown, operation: string, key?: string): Error {
    if (error instanceof StoreError) return error;
    const shape = (error ?? {}) as SdkErrorShape;
    // HEAD responses have no body, so the SDK can only call their errors "Unknown"; the status says more.
    const rawCode = shape.name ?? shape.code ?? '';
    const code = rawCode === 'Unknown' ? '' : rawCode;
    const status = statusOf(shape);
    const what = key === undefined ? this.location : `"${key}" in ${this.location}`;
    const where = `(endpoint ${this.endpointLabel})`;
    const detail = shape.message && shape.message !== 'UnknownError' ? `: ${shape.message}` : '';
    if (code === 'NoSuchBucket')
      return new S3StoreError(
        `${operation} ${what} failed: bucket "${this.bucket}" does not exist ${where}. Create it, or fix the ` +
          'bucket in CAMPAIGN_STORE=s3://<bucket>/<prefix> and the endpoint in AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL.',
        'missing-bucket',
        false,
        { cause: error },
      );
    if (ACCESS_CODES.has(code) || status === 403 || status === 401)
      return new S3StoreError(
        `${operation} ${what} was refused (${code || `HTTP ${status}`}) ${where}${detail}. Check the credentials ` +
          '(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the instance role), the region (AWS_REGION) ' +
          `and that the policy allows s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on "${this.bucket}".`,
        'access-denied',
        false,
        { cause: error },
      );
    if (NETWORK_CODES.has(shape.code ?? '') || NETWORK_CODES.has(code) || code === 'TimeoutError')
      return new S3StoreError(
        `${operation} ${what} failed: cannot reach ${where} (${shape.code ?? code})${detail}. Check ` +
          'AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, that the server is running, and the network between here and it.',
        'unreachable',
        true,
        { cause: error },
      );
    if (/region is missing/i.test(shape.message ?? ''))
      return new S3StoreError(
        `${operation} ${what} failed: no AWS region configured. Set AWS_REGION (or a region in the profile).`,
        'configuration',
        false,
        { cause: error },
      );
    if (/credential/i.test(code) || /could not load credentials/i.test(shape.message ?? ''))
      return new S3StoreError(
        `${operation} ${what} failed: no AWS credentials found${detail}. Set AWS_ACCESS_KEY_ID and ` +
          'AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an instance / task role.',
        'access-denied',
        false,
        { cause: error },
      );
    return new S3StoreError(
      `${operation} ${what} failed ${where}: ${code || 'error'}${status ? ` (HTTP ${status})` : ''}${detail}`,
      'other',
      status === undefined || status >= 500 || status === 429,
      { cause: error },
    );
  }

  /** Fails with a clear S3StoreError unless the bucket exists and these credentials may use it. */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      this.bucketConfirmed = true;
    } catch (error) {
      // HEAD responses carry no error code, so a 404 here can only be the bucket.
      if (statusOf((error ?? {}) as SdkErrorShape) === 404 || isNotFoundError(error))
        throw this.explain(Object.assign(new Error('no such bucket'), { name: 'NoSuchBucket' }), 'Checking');
      throw this.explain(error, 'Checking');
    }
  }

  async put(key: string, body: StoreBody): Promise<void> {
    const Key = this.objectKey(key);
    try {
      if (typeof body === 'string' || body instanceof Uint8Array) {
        const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: bytes,
            ContentLength: bytes.byteLength,
            ...this.sse,
          }),
        );
        return;
      }
      // Unknown length: the uploader sends one PUT for small bodies and a multipart upload for larger
      // ones, holding only a few parts in memory. S3 publishes the object only when the upload completes,
      // so a failure part-way leaves the previous version in place (and the upload is aborted).
      const upload = new Upload({
        client: this.client,
        // The uploader passes the SSE parameters to its single PutObject or its CreateMultipartUpload.
        params: {
          Bucket: this.bucket,
          Key,
          Body: Readable.from(asBuffers(body), { objectMode: false }),
          ...this.sse,
        },
        partSize: this.partSizeBytes,
        queueSize: this.queueSize,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (error) {
      throw this.explain(error, 'Writing', key);
    }
  }

  async createIfAbsent(key: string, body: StoreBody): Promise<boolean> {
    const Key = this.objectKey(key);
    // Create-if-absent objects are small (registry entries): gathered into one conditional PutObject.
    const bytes =
      typeof body === 'string'
        ? Buffer.from(body, 'utf8')
        : body instanceof Uint8Array
          ? body
          : Buffer.concat(await gather(body));
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: bytes,
          ContentLength: bytes.byteLength,
          ...this.sse,
          // S3 refuses the write with 412 when the key exists, and with 409 while another conditional
          // write of the key is in flight: either way another writer got there first.
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw this.explain(error, 'Creating', key);
    }
  }

  async get(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.stream(key)) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  async *stream(key: string): AsyncIterable<Buffer> {
    const Key = this.objectKey(key);
    let body: Readable;
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      // In Node the SDK hands back the HTTP response stream itself: reading it chunk by chunk never
      // holds the whole object.
      body = response.Body as Readable;
    } catch (error) {
      if ((error as SdkErrorShape | undefined)?.name === 'NoSuchKey')
        throw new StoreNotFoundError(key, this.location);
      throw this.explain(error, 'Reading', key);
    }
    try {
      for await (const chunk of body) yield chunk as Buffer;
    } catch (error) {
      throw this.explain(error, 'Reading', key);
    } finally {
      // A consumer that stops early must not leave the connection half-read in the pool.
      body.destroy();
    }
  }

  async exists(key: string): Promise<boolean> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return true;
    } catch (error) {
      if (!isNotFoundError(error)) throw this.explain(error, 'Checking', key);
    }
    if (!this.bucketConfirmed) await this.check();
    return false;
  }

  list(prefix: string): AsyncIterable<string> {
    // Validated before iteration starts, like the filesystem store, so a bad prefix fails at the call.
    assertValidPrefix(prefix);
    return this.listValidated(prefix);
  }

  private async *listValidated(prefix: string): AsyncIterable<string> {
    let continuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            MaxKeys: this.listPageSize,
            ...(continuationToken ? { ContinuationToken: continuationToken } : {}),
          }),
        );
      } catch (error) {
        throw this.explain(error, 'Listing', prefix === '' ? undefined : `${prefix}*`);
      }
      // S3 returns keys in UTF-8 byte order; store keys are ASCII, so this is the contract's order.
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield object.Key.slice(this.prefix.length);
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      if (isNotFoundError(error) && (error as SdkErrorShape).name !== 'NoSuchBucket') return;
      throw this.explain(error, 'Deleting', key);
    }
  }
}

async function gather(body: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>) {
  const parts: Buffer[] = [];
  for await (const chunk of asBuffers(body)) parts.push(chunk);
  return parts;
}

async function* asBuffers(body: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>) {
  for await (const chunk of body) {
    if (typeof chunk === 'string') {
      if (chunk.length > 0) yield Buffer.from(chunk, 'utf8');
    } else if (chunk.byteLength > 0) {
      yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  }
}

/** Opens the store a `s3://bucket/prefix` URL names, configured from `env` (the standard AWS variables). */
export function openS3Store(
  url: string,
  env: Record<string, string | undefined>,
  options: S3StoreOptions = {},
): S3Store {
  const config = loadS3StoreConfig(url, env);
  return new S3Store(createS3Client(config), config, options);
}
