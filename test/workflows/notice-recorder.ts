// A stand-in order workflow for webhook tests: records every orderStatus notice it is signalled,
// answers a query with them, and ends when told to (or after a timeout).
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import { orderStatusSignal } from '../../src/definitions.ts';
import type { OrderStatusNotice } from '../../src/workflows/types.ts';

export const noticesQuery = defineQuery<OrderStatusNotice[]>('notices');
export const finishSignal = defineSignal<[]>('finish');

export async function noticeRecorderWorkflow(timeout: string): Promise<OrderStatusNotice[]> {
  const notices: OrderStatusNotice[] = [];
  let finished = false;
  setHandler(orderStatusSignal, (notice) => {
    notices.push(notice);
  });
  setHandler(noticesQuery, () => notices);
  setHandler(finishSignal, () => {
    finished = true;
  });
  await condition(() => finished, timeout);
  return notices;
}
