// The S3 claim-check store against a real S3-compatible server (moto): the shared store contract, plus
// what only an object store has: bucket and prefix configuration, multipart uploads, clear errors.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { openStore } from '../../src/store/index.ts';
import {
  S3Store,
  S3StoreError,
  loadS3StoreConfig,
  openS3Store,
  parseS3StoreUrl,
} from '../../src/store/s3-store.ts';
import {
  type RunningS3Server,
  createBucketStore,
  s3StoreOn,
  startS3Server,
  uniqueBucketName,
} from '../helpers/s3.ts';
import { describeStoreContract } from './store-contract.ts';

const MiB = 1024 * 1024;
let server: RunningS3Server;
let contractStore: S3Store;

before(async () => {
  server = await startS3Server();
  // A small list page size makes every listing in the contract cross ListObjectsV2 page boundaries.
  contractStore = await createBucketStore(server, {
    prefix: 'tenants/acme/',
    listPageSize: 7,
    partSizeBytes: 5 * MiB,
    queueSize: 2,
  });
});

after(async () => {
  contractStore?.client.destroy();
  await server?.stop();
});

describeStoreContract('S3 (moto)', {
  store: () => contractStore,
  // 5 MiB parts, two in flight plus the one being filled, plus the SDK's copies: well under the 50 MiB.
  streamingMemoryLimitBytes: 36 * MiB,
  onMeasured: (m) =>
    console.log(
      `  S3 50 MiB: write peak ${(m.writePeakBytes / MiB).toFixed(1)} MiB, read peak ` +
        `${(m.readPeakBytes / MiB).toFixed(1)} MiB, ${m.seconds.toFixed(1)} s`,
    ),
});

describe('S3Store specifics', () => {
  it('keeps stores with different prefixes in one bucket apart, and keys are prefix + store key', async () => {
    const bucket = uniqueBucketName('prefixes');
    const a = await createBucketStore(server, { bucket, prefix: 'company-a' });
    const b = s3StoreOn(server, bucket, 'company-a-archive/');
    const root = s3StoreOn(server, bucket);
    try {
      assert.equal(a.location, `s3://${bucket}/company-a/`);
      await a.put('campaigns/c1/items.jsonl', 'from a');
      await b.put('campaigns/c1/items.jsonl', 'from b');
      assert.equal((await a.get('campaigns/c1/items.jsonl')).toString(), 'from a');
      assert.equal((await b.get('campaigns/c1/items.jsonl')).toString(), 'from b');
      assert.deepEqual(await collect(a.list('')), ['campaigns/c1/items.jsonl']);
      assert.deepEqual(await collect(b.list('campaigns/')), ['campaigns/c1/items.jsonl']);
      // "company-a" must not see "company-a-archive": the prefix is a folder, not a string start.
      assert.deepEqual(await collect(root.list('')), [
        'company-a-archive/campaigns/c1/items.jsonl',
        'company-a/campaigns/c1/items.jsonl',
      ]);
      await a.delete('campaigns/c1/items.jsonl');
      assert.equal(await b.exists('campaigns/c1/items.jsonl'), true);
    } finally {
      for (const store of [a, b, root]) store.client.destroy();
    }
  });

  it('uploads a streamed body larger than a part as one multipart object and leaves no upload behind', async () => {
    const store = await createBucketStore(server, { partSizeBytes: 5 * MiB });
    try {
      async function* body() {
        for (let i = 0; i < 12; i += 1) yield Buffer.alloc(MiB, i);
      }
      await store.put('campaigns/mp/items.bin', body());
      const bytes = await store.get('campaigns/mp/items.bin');
      assert.equal(bytes.length, 12 * MiB);
      for (let i = 0; i < 12; i += 1) assert.equal(bytes[i * MiB + 17], i);
      const listed = await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket }));
      // A multipart object's ETag ends in "-<parts>": proof the large body went up in parts.
      assert.match(listed.Contents?.[0]?.ETag ?? '', /-3"?$/);
      async function* broken() {
        yield Buffer.alloc(11 * MiB, 1);
        throw new Error('input ended early');
      }
      await assert.rejects(store.put('campaigns/mp/other.bin', broken()), /input ended early/);
      const uploads = await store.client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket }));
      assert.deepEqual(uploads.Uploads ?? [], [], 'a failed upload is aborted, not left to accrue storage');
      assert.equal(await store.exists('campaigns/mp/other.bin'), false);
    } finally {
      store.client.destroy();
    }
  });

  it('says the bucket is missing, and what to fix, from every operation', async () => {
    const store = s3StoreOn(server, uniqueBucketName('missing'), 'p/');
    const isMissingBucket = (error: unknown) => {
      assert.ok(error instanceof S3StoreError, String(error));
      assert.equal(error.failure, 'missing-bucket');
      assert.equal(error.retryable, false);
      assert.match(error.message, new RegExp(`bucket "${store.bucket}" does not exist`));
      assert.match(error.message, /CAMPAIGN_STORE=s3:\/\//);
      assert.ok(error.message.includes(server.endpoint), 'names the endpoint');
      return true;
    };
    try {
      await assert.rejects(store.check(), isMissingBucket);
      await assert.rejects(store.put('k', 'v'), isMissingBucket);
      await assert.rejects(
        store.put(
          'k',
          (async function* () {
            yield 'v';
          })(),
        ),
        isMissingBucket,
      );
      await assert.rejects(store.get('k'), isMissingBucket);
      // HEAD responses have no error code: exists() must not mistake a missing bucket for a missing key.
      await assert.rejects(store.exists('k'), isMissingBucket);
      await assert.rejects(collect(store.list('')), isMissingBucket);
    } finally {
      store.client.destroy();
    }
  });

  it('says access was refused, and which credentials and permissions to check', async () => {
    const bucket = uniqueBucketName('locked');
    const locked = await startS3Server({ buckets: [bucket], enforceCredentials: true });
    const store = s3StoreOn(locked, bucket, 'p/');
    try {
      const isAccessDenied = (error: unknown) => {
        assert.ok(error instanceof S3StoreError, String(error));
        assert.equal(error.failure, 'access-denied');
        assert.equal(error.retryable, false);
        assert.match(error.message, /refused \(InvalidAccessKeyId\)/);
        assert.match(error.message, /AWS_ACCESS_KEY_ID/);
        assert.match(error.message, /s3:PutObject/);
        return true;
      };
      await assert.rejects(store.put('k', 'v'), isAccessDenied);
      await assert.rejects(collect(store.list('')), isAccessDenied);
      // HEAD answers carry no error code: the status has to do.
      await assert.rejects(store.check(), (error: unknown) => {
        assert.ok(error instanceof S3StoreError && error.failure === 'access-denied', String(error));
        assert.match(error.message, /refused \(HTTP 403\)/);
        return true;
      });
      await assert.rejects(store.exists('k'), /refused \(HTTP 403\)/);
    } finally {
      store.client.destroy();
      await locked.stop();
    }
  });

  it('says the endpoint is unreachable, and that trying again may help', async () => {
    // A port nothing listens on: the server's own port after it is stopped would race; port 1 is reserved.
    const store = openS3Store('s3://some-bucket/p', {
      ...server.env,
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1',
      AWS_MAX_ATTEMPTS: '1',
    });
    try {
      await assert.rejects(store.get('k'), (error: unknown) => {
        assert.ok(error instanceof S3StoreError, String(error));
        assert.equal(error.failure, 'unreachable');
        assert.equal(error.retryable, true);
        assert.match(error.message, /cannot reach \(endpoint http:\/\/127\.0\.0\.1:1\)/);
        assert.match(error.message, /AWS_ENDPOINT_URL_S3/);
        return true;
      });
    } finally {
      store.client.destroy();
    }
  });

  it('is what CAMPAIGN_STORE=s3://... opens through the store registry', async () => {
    const bucket = uniqueBucketName('registry');
    const direct = await createBucketStore(server, { bucket, prefix: 'runs' });
    try {
      await direct.put('campaigns/r/report.json', '{"ok":true}');
      // openStore reads the AWS settings from the process environment, as a worker does.
      const saved = { ...process.env };
      Object.assign(process.env, server.env);
      let opened;
      try {
        opened = await openStore(`s3://${bucket}/runs`);
      } finally {
        for (const name of Object.keys(server.env)) {
          if (saved[name] === undefined) delete process.env[name];
          else process.env[name] = saved[name];
        }
      }
      assert.ok(opened instanceof S3Store);
      assert.equal(opened.location, `s3://${bucket}/runs/`);
      assert.equal((await opened.get('campaigns/r/report.json')).toString(), '{"ok":true}');
      opened.client.destroy();
    } finally {
      direct.client.destroy();
    }
  });
  it('authenticates with a named profile from the shared credentials file when no keys are set', async () => {
    const bucket = uniqueBucketName('profile');
    const direct = await createBucketStore(server, { bucket });
    const dir = await mkdtemp(path.join(tmpdir(), 'aws-profile-'));
    const saved = { ...process.env };
    try {
      await direct.put('campaigns/p/report.json', '{}');
      await writeFile(
        path.join(dir, 'credentials'),
        `[campaign-workers]\naws_access_key_id = ${server.accessKeyId}\naws_secret_access_key = ${server.secretAccessKey}\n`,
      );
      await writeFile(path.join(dir, 'config'), '[profile campaign-workers]\nregion = us-east-1\n');
      // The SDK reads the files' locations from the process environment; nothing else may supply keys.
      process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
      process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
        delete process.env[name];
      const store = openS3Store(`s3://${bucket}`, {
        AWS_ENDPOINT_URL_S3: server.endpoint,
        AWS_PROFILE: 'campaign-workers',
      });
      try {
        assert.equal(await store.exists('campaigns/p/report.json'), true);
      } finally {
        store.client.destroy();
      }
    } finally {
      for (const name of [
        'AWS_SHARED_CREDENTIALS_FILE',
        'AWS_CONFIG_FILE',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SESSION_TOKEN',
        'AWS_PROFILE',
      ]) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
      await rm(dir, { recursive: true, force: true });
      direct.client.destroy();
    }
  });
});

describe('S3 store configuration', () => {
  it('parses bucket and prefix from the store URL', () => {
    assert.deepEqual(parseS3StoreUrl('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseS3StoreUrl('s3://my-bucket/'), { bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseS3StoreUrl('s3://my.bucket/a/b'), { bucket: 'my.bucket', prefix: 'a/b/' });
    assert.deepEqual(parseS3StoreUrl('s3://b12/a/b/'), { bucket: 'b12', prefix: 'a/b/' });
    for (const bad of [
      's3://',
      's3://UPPER/x',
      's3://ab',
      's3://b..c/x',
      's3://bucket/a//b',
      's3://bucket/a?x=1',
      's3://bucket/../x',
    ])
      assert.throws(
        () => parseS3StoreUrl(bad),
        (error: unknown) => {
          assert.ok(
            error instanceof S3StoreError && error.failure === 'configuration',
            `${bad}: ${String(error)}`,
          );
          return true;
        },
      );
  });

  it('reads endpoint, region, credentials and path style the standard AWS way', () => {
    const onAws = loadS3StoreConfig('s3://bucket/p', { AWS_REGION: 'eu-west-1', AWS_PROFILE: 'prod' });
    assert.deepEqual(onAws, {
      bucket: 'bucket',
      prefix: 'p/',
      region: 'eu-west-1',
      forcePathStyle: false,
      profile: 'prod',
    });

    const local = loadS3StoreConfig('s3://bucket', {
      AWS_ENDPOINT_URL: 'http://generic:1',
      AWS_ENDPOINT_URL_S3: 'http://minio.internal:9000',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    });
    assert.equal(local.endpoint, 'http://minio.internal:9000', 'the S3-specific endpoint wins');
    assert.equal(local.region, 'us-east-1', 'a default region for S3-compatible servers');
    assert.equal(local.forcePathStyle, true, 'path style by default with a custom endpoint');
    assert.deepEqual(local.credentials, {
      accessKeyId: 'id',
      secretAccessKey: 'secret',
      sessionToken: 'token',
    });
    assert.equal(local.requestChecksumCalculation, 'WHEN_REQUIRED');

    const r2 = loadS3StoreConfig('s3://bucket', {
      AWS_ENDPOINT_URL: 'https://acct.r2.cloudflarestorage.com',
      AWS_REGION: 'auto',
      AWS_S3_FORCE_PATH_STYLE: 'false',
      AWS_DEFAULT_REGION: 'ignored',
    });
    assert.equal(r2.region, 'auto');
    assert.equal(r2.forcePathStyle, false);
  });

  it('names the variable that is wrong', () => {
    assert.throws(
      () => loadS3StoreConfig('s3://bucket', { AWS_ACCESS_KEY_ID: 'id' }),
      /AWS_SECRET_ACCESS_KEY is not set/,
    );
    assert.throws(
      () => loadS3StoreConfig('s3://bucket', { AWS_SECRET_ACCESS_KEY: 's' }),
      /AWS_ACCESS_KEY_ID is not set/,
    );
    assert.throws(
      () => loadS3StoreConfig('s3://bucket', { AWS_ENDPOINT_URL_S3: 'minio:9000' }),
      /AWS_ENDPOINT_URL_S3="minio:9000" is invalid/,
    );
    assert.throws(
      () => loadS3StoreConfig('s3://bucket', { AWS_S3_FORCE_PATH_STYLE: 'yes' }),
      /AWS_S3_FORCE_PATH_STYLE/,
    );
    assert.throws(() => loadS3StoreConfig('s3://bucket', { AWS_MAX_ATTEMPTS: '0' }), /AWS_MAX_ATTEMPTS/);
  });
});

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}
