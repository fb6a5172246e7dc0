// Text output for people: aligned tables, a progress bar, progress lines and CSV cells.
import type { CampaignProgress } from '../workflows/types.ts';

export function table(headers: string[], rows: string[][], maxWidth = 60): string {
  const clip = (cell: string) => (cell.length > maxWidth ? `${cell.slice(0, maxWidth - 1)}…` : cell);
  const all = [headers, ...rows].map((row) => row.map((cell) => clip(cell.replace(/\s+/g, ' '))));
  const widths = headers.map((_, column) => Math.max(...all.map((row) => row[column]?.length ?? 0)));
  return (
    all
      .map((row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** Items that reached a terminal state. */
export function settled(progress: CampaignProgress): number {
  const { counts } = progress;
  return counts.delivered + (counts.scheduled ?? 0) + counts.givenUp + counts.cancelled;
}

export function progressBar(done: number, total: number, width = 30): string {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%`;
}

/** One line with the counts an operator watches. */
export function progressLine(progress: CampaignProgress): string {
  const { counts, orders } = progress;
  return (
    `${progress.status}: ${settled(progress)}/${counts.total} settled, ${counts.delivered} delivered, ` +
    (counts.scheduled ? `${counts.scheduled} scheduled, ` : '') +
    `${counts.submitted} with Tango, ${counts.queued} queued, ${counts.awaitingCorrection} awaiting correction, ` +
    `${counts.awaitingFunds} awaiting funds, ${counts.givenUp} given up, ${counts.cancelled} cancelled; ` +
    `orders ${orders.finished}/${orders.total} done, ${orders.inFlight} in flight` +
    (orders.overdue > 0 ? `, ${orders.overdue} overdue` : '') +
    (orders.blocked ? `, ${orders.blocked} blocked` : '')
  );
}

export function statusText(progress: CampaignProgress, executionStatus: string): string {
  const { counts } = progress;
  const lines = [
    `Campaign ${progress.campaignId}: ${progress.status}${progress.statusReason ? ` (${progress.statusReason})` : ''}`,
    `Workflow: ${executionStatus.toLowerCase()}`,
    `Progress: ${progressBar(settled(progress), counts.total)}`,
    `Items: ${counts.total} total, ${counts.delivered} delivered, ${counts.scheduled ?? 0} scheduled, ${counts.submitted} with Tango, ${counts.queued} queued`,
    `Waiting: ${counts.awaitingCorrection} for correction, ${counts.awaitingFunds} for funds` +
      (counts.awaitingFundsAmount > 0 ? ` (amount ${counts.awaitingFundsAmount})` : ''),
    `Ended: ${counts.givenUp} given up, ${counts.cancelled} cancelled; ${counts.corrected} corrected by operators, ${counts.autoFixed} fixed automatically`,
    `Failures by class: transient ${counts.failures.transient}, needs correction ${counts.failures['needs-correction']}, needs funds ${counts.failures['needs-funds']}, permanent ${counts.failures.permanent}`,
    `Orders: ${progress.orders.finished}/${progress.orders.total} finished, ${progress.orders.inFlight} in flight, ${progress.orders.overdue} overdue, ${progress.orders.blocked ?? 0} blocked; rounds so far ${progress.rounds}`,
    ...(progress.inputIgnored
      ? [
          `Not applied: ${progress.inputIgnored} correction(s) or skip(s) an update accepted, because their items had moved on meanwhile (see failures)`,
        ]
      : []),
    ...(progress.blockedOrders ?? []).map(
      (order) => `Blocked: order ${order.externalRefID} (chunk ${order.chunk}): ${order.reason}`,
    ),
    `Total amount: ${progress.totalAmount}` +
      (progress.approvedBy ? `; approved by ${progress.approvedBy}` : ''),
  ];
  return lines.join('\n') + '\n';
}
