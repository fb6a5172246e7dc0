// Loads a scheduled campaign's line items from its source (a file path or an http(s) URL, CSV or
// JSON) into the store, validated row by row, so the campaign starts from a store key.
import { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import got from 'got';
import { campaignPrefix } from '../store/keys.ts';
import { putJsonLines } from '../store/json.ts';
import type { CampaignStore } from '../store/store.ts';
import {
  type InputFormat,
  InputFileError,
  formatOfFile,
  parseLineItems,
  readLineItemsFile,
} from '../campaign/input-file.ts';
import { failureTypes } from './errors.ts';

export interface CampaignSource {
  /** A local path (as the worker sees it) or an http(s) URL. */
  location: string;
  format?: InputFormat;
}

export function sourceItemsKey(campaignId: string): string {
  return `${campaignPrefix(campaignId)}source-items.jsonl`;
}

export function createSourceActivities(store: CampaignStore) {
  async function loadCampaignSource(input: {
    campaignId: string;
    source: CampaignSource;
  }): Promise<{ storeKey: string; items: number }> {
    const { location } = input.source;
    const format = input.source.format ?? formatOfFile(new URL(location, 'file:///').pathname);
    const items = /^https?:\/\//i.test(location)
      ? parseLineItems(
          Readable.from(got.stream(location, { timeout: { request: 60_000 }, retry: { limit: 0 } })),
          {
            name: location,
            format,
          },
        )
      : readLineItemsFile(location, { format });
    const storeKey = sourceItemsKey(input.campaignId);
    try {
      const count = await putJsonLines(
        store,
        storeKey,
        (async function* () {
          let count = 0;
          for await (const parsed of items) {
            count += 1;
            if (count % 2000 === 0) Context.current().heartbeat({ read: count });
            yield parsed.item;
          }
        })(),
      );
      return { storeKey, items: count };
    } catch (error) {
      if (error instanceof InputFileError) {
        throw ApplicationFailure.create({
          type: failureTypes.invalidInput,
          message: error.message,
          details: [{ problems: error.problems }],
          nonRetryable: true,
        });
      }
      throw error;
    }
  }
  return { loadCampaignSource };
}
