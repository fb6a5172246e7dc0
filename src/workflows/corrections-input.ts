// The shape of operator corrections as they enter the campaign (update argument). Each names the
// failed line item it corrects and carries the fields to change, in POST /asyncOrders form; the
// merged item is checked against Tango's full line-item rules by the staging activity.
import { z } from 'zod';

export const lineItemCorrectionSchema = z
  .looseObject({
    externalRefLineItemID: z.string().min(1).max(100),
  })
  .refine((correction) => Object.keys(correction).length > 1, {
    message: 'a correction must change at least one field besides externalRefLineItemID',
  });
export type LineItemCorrection = z.infer<typeof lineItemCorrectionSchema>;

export const MAX_INLINE_CORRECTIONS = 1000;

export const correctionsInputSchema = z
  .array(lineItemCorrectionSchema)
  .min(1, 'send at least one correction')
  .max(MAX_INLINE_CORRECTIONS, `at most ${MAX_INLINE_CORRECTIONS} corrections per update`)
  .superRefine((corrections, context) => {
    const seen = new Set<string>();
    corrections.forEach((correction, index) => {
      if (seen.has(correction.externalRefLineItemID)) {
        context.addIssue({
          code: 'custom',
          path: [index, 'externalRefLineItemID'],
          message: `${correction.externalRefLineItemID} is corrected twice in this update`,
        });
      }
      seen.add(correction.externalRefLineItemID);
    });
  });
