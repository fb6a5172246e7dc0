// One place where tests get a real S3-compatible server (moto, installed on first use by
// scripts/install-s3.mjs) and S3 stores pointed at it.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { type RunningS3Server, startS3Server } from '../../scripts/s3-server.ts';
import { type S3Store, type S3StoreOptions, openS3Store } from '../../src/store/s3-store.ts';

export { type RunningS3Server, startS3Server };

/** A fresh bucket name, so that tests sharing one server never see each other's objects. */
export function uniqueBucketName(label = 'test'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

/** A store on `s3://<bucket>/<prefix>` of the server, configured exactly as a worker would be (env). */
export function s3StoreOn(
  server: RunningS3Server,
  bucket: string,
  prefix = '',
  options: S3StoreOptions = {},
): S3Store {
  return openS3Store(`s3://${bucket}/${prefix}`, server.env, options);
}

/** Creates a bucket on the server and returns a store on it. */
export async function createBucketStore(
  server: RunningS3Server,
  options: { bucket?: string; prefix?: string } & S3StoreOptions = {},
): Promise<S3Store> {
  const bucket = options.bucket ?? uniqueBucketName();
  const store = s3StoreOn(server, bucket, options.prefix ?? '', options);
  await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
  return store;
}
