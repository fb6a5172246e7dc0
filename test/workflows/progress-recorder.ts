// Workflows for order tests on a real server: the order workflow itself, and a stand-in campaign
// that records the progress reports its orders signal, in the order they arrive.
import { condition, defineQuery, setHandler } from '@temporalio/workflow';
import { orderProgressSignal } from '../../src/definitions.ts';
import type { OrderProgress } from '../../src/workflows/types.ts';

export { orderWorkflow } from '../../src/workflows/order-workflow.ts';

export const reportsQuery = defineQuery<OrderProgress[]>('reports');

export async function progressRecorderWorkflow(timeout: string): Promise<OrderProgress[]> {
  const reports: OrderProgress[] = [];
  setHandler(orderProgressSignal, (report) => {
    reports.push(report);
  });
  setHandler(reportsQuery, () => reports);
  await condition(() => reports.some((report) => report.done), timeout);
  return reports;
}
