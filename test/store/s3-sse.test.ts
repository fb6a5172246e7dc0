// CAMPAIGN_STORE_SSE: every object the S3 store writes asks for server-side encryption, whatever
// the path (single PutObject, multipart upload, conditional create).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { S3StoreError, loadS3StoreConfig, openS3Store, type S3Store } from '../../src/store/s3-store.ts';
import { type RunningS3Server, startS3Server, uniqueBucketName } from '../helpers/s3.ts';

const MiB = 1024 * 1024;
let server: RunningS3Server;

before(async () => {
  server = await startS3Server();
});
after(async () => {
  await server?.stop();
});

/** A store configured from the environment, recording the SSE header of every write request. */
async function recordingStore(extraEnv: Record<string, string>) {
  const bucket = uniqueBucketName('sse');
  const store = openS3Store(`s3://${bucket}/p/`, { ...server.env, ...extraEnv }, { partSizeBytes: 5 * MiB });
  await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const writes: { command: string; sse?: string; kmsKey?: string }[] = [];
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      const command = String(context.commandName);
      if (/^(PutObject|CreateMultipartUpload|UploadPart|CompleteMultipartUpload)Command$/.test(command)) {
        const sse = request.headers?.['x-amz-server-side-encryption'];
        const kmsKey = request.headers?.['x-amz-server-side-encryption-aws-kms-key-id'];
        writes.push({ command, ...(sse ? { sse } : {}), ...(kmsKey ? { kmsKey } : {}) });
      }
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordSse' },
  );
  return { store, bucket, writes };
}

async function* big(bytes: number): AsyncIterable<Uint8Array> {
  for (let sent = 0; sent < bytes; sent += MiB) yield Buffer.alloc(Math.min(MiB, bytes - sent), 7);
}

async function serverSide(store: S3Store, bucket: string, key: string) {
  const head = await store.client.send(new HeadObjectCommand({ Bucket: bucket, Key: `p/${key}` }));
  return head.ServerSideEncryption;
}

describe('S3 server-side encryption', () => {
  it('asks for AES256 on PutObject, multipart uploads and createIfAbsent', async () => {
    const { store, bucket, writes } = await recordingStore({ CAMPAIGN_STORE_SSE: 'AES256' });
    try {
      await store.put('small.json', '{"a":1}');
      await store.put('streamed-small.jsonl', big(1000));
      await store.put('streamed-big.jsonl', big(11 * MiB));
      assert.equal(await store.createIfAbsent('registry/x.json', '{}'), true);
      const starts = writes.filter(
        (write) => !/^(UploadPart|CompleteMultipartUpload)Command$/.test(write.command),
      );
      assert.deepEqual(
        starts.map((write) => write.command),
        ['PutObjectCommand', 'PutObjectCommand', 'CreateMultipartUploadCommand', 'PutObjectCommand'],
      );
      for (const write of starts) assert.equal(write.sse, 'AES256', write.command);
      for (const key of ['small.json', 'streamed-small.jsonl', 'streamed-big.jsonl', 'registry/x.json'])
        assert.equal(await serverSide(store, bucket, key), 'AES256', key);
    } finally {
      store.client.destroy();
    }
  });

  it('asks for aws:kms with the configured key', async () => {
    const { store, writes } = await recordingStore({
      CAMPAIGN_STORE_SSE: 'aws:kms',
      CAMPAIGN_STORE_SSE_KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/campaigns',
    });
    // moto may or may not know the key; what is checked is what the store asks for.
    try {
      await store.put('small.json', '{"a":1}').catch(() => undefined);
      await store.createIfAbsent('registry/y.json', '{}').catch(() => undefined);
      assert.ok(writes.length >= 2);
      for (const write of writes) {
        assert.equal(write.sse, 'aws:kms');
        assert.equal(write.kmsKey, 'arn:aws:kms:us-east-1:123456789012:key/campaigns');
      }
    } finally {
      store.client.destroy();
    }
  });

  it('sends no SSE header when unset, and refuses a key id without aws:kms or a bad mode', async () => {
    const { store, writes } = await recordingStore({});
    try {
      await store.put('plain.json', '{}');
      assert.deepEqual(writes, [{ command: 'PutObjectCommand' }]);
    } finally {
      store.client.destroy();
    }
    assert.throws(
      () =>
        loadS3StoreConfig('s3://bucket-x/', {
          CAMPAIGN_STORE_SSE: 'AES256',
          CAMPAIGN_STORE_SSE_KMS_KEY_ID: 'k',
        }),
      (error: unknown) =>
        error instanceof S3StoreError && /CAMPAIGN_STORE_SSE_KMS_KEY_ID/.test(error.message),
    );
    assert.throws(
      () => loadS3StoreConfig('s3://bucket-x/', { CAMPAIGN_STORE_SSE: 'rot13' }),
      /CAMPAIGN_STORE_SSE.*AES256 or aws:kms/,
    );
  });
});
