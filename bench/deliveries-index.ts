// The deliveries index at scale, on a filesystem store in a temp directory: record <campaigns>
// campaigns of <items> delivered items each, then check a campaign of <items> (half of them repeats)
// against them; prints times and peak RSS. Usage: node --import tsx bench/deliveries-index.ts 20 50000
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeliveriesIndex } from '../src/deliveries/index-store.ts';
import { FileSystemStore } from '../src/store/filesystem.ts';
import type { LineItemRequest } from '../src/tango/schemas.ts';

const campaigns = Number(process.argv[2] ?? 20);
const perCampaign = Number(process.argv[3] ?? 50_000);
const dir = mkdtempSync(path.join(tmpdir(), 'bench-index-'));
const store = new FileSystemStore(dir);
const index = new DeliveriesIndex(store, Buffer.from('bench key of enough length'));
const item = (c: number, i: number): LineItemRequest => ({
  externalRefLineItemID: `c${c}-${i}`,
  recipient: { firstName: 'A', lastName: 'B', email: `p${c * perCampaign + i}@example.test` },
  utid: 'U000001',
  amount: 25,
  deliveryMethod: 'EMAIL',
});
async function* items(c: number, n = perCampaign, offset = 0) {
  for (let i = 0; i < n; i += 1) yield item(c, i + offset);
}
let peak = 0;
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
let t = Date.now();
for (let c = 0; c < campaigns; c += 1)
  await index.recordCampaign({ campaignId: `c${c}`, accountIdentifier: 'acct-1', delivered: () => items(c) });
const recordMs = Date.now() - t;
const recordPeak = peak;
peak = 0;
t = Date.now();
// A new campaign of perCampaign items, half of them repeats of campaign 3.
async function* probe() {
  for (let i = 0; i < perCampaign; i += 1) yield i % 2 === 0 ? item(3, i) : item(campaigns + 1, i);
}
const repeats = await index.findRepeats({
  campaignId: 'probe',
  accountIdentifier: 'acct-1',
  items: probe,
  windowMs: 30 * 86_400_000,
});
const checkMs = Date.now() - t;
clearInterval(sample);
console.log(
  JSON.stringify({
    entries: campaigns * perCampaign,
    recordMs,
    recordPeakMB: Math.round(recordPeak / 1e6),
    checkItems: perCampaign,
    repeats: repeats.length,
    checkMs,
    checkPeakMB: Math.round(peak / 1e6),
  }),
);
rmSync(dir, { recursive: true, force: true });
