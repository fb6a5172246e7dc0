// Tango's error codes that a campaign runner reacts to. Request-level errors carry an i18nKey
// ("422.134"); line items carry errorCodeValue/errorCodeName (POST) or errorCode (GET). The line-item
// code values are not published by Tango, so the names below are the ones our simulator emits and
// the classification table keys on; real codes that differ are mapped with TANGO_ERROR_CLASSES.

/** What the workflow does with a failed item (docs/architecture.md, "Failure classes"). */
export const FAILURE_CLASSES = ['transient', 'needs-correction', 'needs-funds', 'permanent'] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** One count per failure class, all zero. */
export function zeroPerFailureClass(): Record<FailureClass, number> {
  return Object.fromEntries(FAILURE_CLASSES.map((name) => [name, 0])) as Record<FailureClass, number>;
}

export interface KnownErrorCode {
  /** errorCodeName on POST failedLineItems, errorCode on GET lineItemErrors. */
  name: string;
  /** errorCodeValue on POST failedLineItems. */
  value: number;
  /** The request-level i18nKey with the same meaning, where Tango documents one. */
  i18nKey?: string;
  failureClass: FailureClass;
  /** The field the error points at, as Tango names it in failedLineItems[].errors[].field. */
  field?: string;
  description: string;
}

export const knownErrorCodes: readonly KnownErrorCode[] = [
  {
    name: 'EMAIL_REQUIRED',
    value: 29,
    i18nKey: '422.029',
    failureClass: 'needs-correction',
    field: 'recipient.email',
    description: 'email address required for EMAIL delivery',
  },
  {
    name: 'INVALID_EMAIL',
    value: 134,
    i18nKey: '422.134',
    failureClass: 'needs-correction',
    field: 'recipient.email',
    description: 'not a well-formed email address',
  },
  {
    name: 'INVALID_PHONE',
    value: 135,
    failureClass: 'needs-correction',
    field: 'recipient.mobileNumber',
    description: 'mobile number missing or not valid for PHONE / WHATSAPP delivery',
  },
  {
    name: 'INVALID_ADDRESS',
    value: 136,
    failureClass: 'needs-correction',
    field: 'recipient.address',
    description: 'postal address incomplete or undeliverable',
  },
  {
    name: 'UNKNOWN_UTID',
    value: 33,
    i18nKey: '404.033',
    failureClass: 'needs-correction',
    field: 'utid',
    description: 'utid not in the catalog',
  },
  {
    name: 'INVALID_UTID',
    value: 164,
    i18nKey: '422.164',
    failureClass: 'needs-correction',
    field: 'utid',
    description: 'utid not valid',
  },
  {
    name: 'INVALID_UTID_FORMAT',
    value: 147,
    i18nKey: '422.147',
    failureClass: 'needs-correction',
    field: 'utid',
    description: 'utid has the wrong format',
  },
  {
    name: 'AMOUNT_OUT_OF_RANGE',
    value: 25,
    i18nKey: '422.025',
    failureClass: 'needs-correction',
    field: 'amount',
    description: 'amount outside the reward’s min/max',
  },
  {
    name: 'AMOUNT_BELOW_MINIMUM',
    value: 59,
    i18nKey: '422.059',
    failureClass: 'needs-correction',
    field: 'amount',
    description: 'amount below the reward’s minimum',
  },
  {
    name: 'AMOUNT_ABOVE_MAXIMUM',
    value: 98,
    i18nKey: '422.098',
    failureClass: 'needs-correction',
    field: 'amount',
    description: 'amount above the reward’s maximum',
  },
  {
    name: 'WRONG_FIXED_AMOUNT',
    value: 27,
    i18nKey: '422.027',
    failureClass: 'needs-correction',
    field: 'amount',
    description: 'fixed-value reward ordered with another amount',
  },
  {
    name: 'CURRENCY_MISMATCH',
    value: 166,
    i18nKey: '422.166',
    failureClass: 'needs-correction',
    field: 'utid',
    description: 'reward currency differs from the account currency',
  },
  {
    name: 'DELIVERY_METHOD_NOT_SUPPORTED',
    value: 170,
    failureClass: 'needs-correction',
    field: 'deliveryMethod',
    description: 'reward not valid for the delivery method',
  },
  {
    name: 'INVALID_DELIVERY_DATE',
    value: 171,
    failureClass: 'needs-correction',
    field: 'deliveryDate',
    description: 'deliveryDate must be at least 7 days ahead',
  },
  {
    name: 'ITEM_INACTIVE',
    value: 30,
    i18nKey: '422.030',
    failureClass: 'permanent',
    field: 'utid',
    description: 'reward inactive or discontinued',
  },
  {
    name: 'ITEM_UNAVAILABLE',
    value: 97,
    i18nKey: '422.097',
    failureClass: 'permanent',
    field: 'utid',
    description: 'reward no longer available',
  },
  {
    name: 'RECIPIENT_BLOCKED',
    value: 180,
    failureClass: 'permanent',
    field: 'recipient',
    description: 'recipient blocked by fraud or compliance rules',
  },
  {
    name: 'INSUFFICIENT_FUNDS',
    value: 1,
    i18nKey: '402.001',
    failureClass: 'needs-funds',
    description: 'account balance does not cover the reward',
  },
  {
    name: 'ACCOUNT_NOT_ACTIVE',
    value: 156,
    i18nKey: '422.156',
    failureClass: 'permanent',
    description: 'account not active',
  },
  {
    name: 'PROCESSING_ERROR',
    value: 500,
    failureClass: 'transient',
    description: 'Tango-side processing error; resubmit',
  },
  {
    name: 'PROVIDER_TIMEOUT',
    value: 504,
    failureClass: 'transient',
    description: 'reward provider timed out; resubmit',
  },
  {
    name: 'TEMPORARY_OUTAGE',
    value: 503,
    i18nKey: '503.501',
    failureClass: 'transient',
    description: 'temporary outage; resubmit',
  },
];
