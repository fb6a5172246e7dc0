// Public API of the Tango layer, re-exported by name. Workflow code must import
// './schemas.ts' directly instead: this index also pulls in the HTTP client (got, node:*).
export {
  MIN_DELIVERY_LEAD_DAYS,
  deliveryDateProblem,
  normalizeStatus,
  isFinalOrderStatus,
  isFinalLineItemStatus,
  isFinalWebhookStatus,
  deliveryMethodSchema,
  addressSchema,
  recipientSchema,
  senderSchema,
  lineItemRequestSchema,
  createAsyncOrderRequestSchema,
  updateAsyncOrderRequestSchema,
  webhookVerificationMethodSchema,
  webhookRegistrationRequestSchema,
  tangoErrorDetailSchema,
  tangoErrorBodySchema,
  failedLineItemErrorSchema,
  failedLineItemSchema,
  createAsyncOrderResponseSchema,
  responseAddressSchema,
  responseRecipientSchema,
  amountChargedSchema,
  lineItemErrorSchema,
  lineItemDetailSchema,
  paginationSchema,
  asyncOrderDetailSchema,
  webhookRegistrationResponseSchema,
  asyncOrderStatusEventSchema,
  catalogItemSchema,
  catalogBrandSchema,
  catalogResponseSchema,
  accountResponseSchema,
  orderRefSchema,
  asyncOrderQuerySchema,
  MAX_IDS_PER_FILTER,
  MAX_RESULTS_PER_PAGE,
} from './schemas.ts';
export type {
  DeliveryMethod,
  Address,
  Recipient,
  Sender,
  LineItemRequest,
  CreateAsyncOrderRequest,
  UpdateAsyncOrderRequest,
  WebhookVerificationMethod,
  WebhookRegistrationRequest,
  TangoErrorBody,
  FailedLineItem,
  CreateAsyncOrderResponse,
  LineItemError,
  LineItemDetail,
  Pagination,
  AsyncOrderDetail,
  WebhookRegistrationResponse,
  AsyncOrderStatusEvent,
  CatalogItem,
  CatalogBrand,
  CatalogResponse,
  AccountResponse,
  OrderRef,
  AsyncOrderQuery,
} from './schemas.ts';
export { knownErrorCodes } from './error-codes.ts';
export type { FailureClass, KnownErrorCode } from './error-codes.ts';
export {
  loadTangoConfig,
  ConfigError,
  LOCAL_SIMULATOR_DEFAULTS,
  TANGO_SANDBOX_BASE_URL,
  TANGO_PRODUCTION_BASE_URL,
  isLoopbackUrl,
  certificateToPem,
} from './config.ts';
export type { TangoConfig, TangoAuthConfig, TangoWebhookConfig } from './config.ts';
export {
  TangoError,
  TangoHttpError,
  TangoNetworkError,
  TangoResponseValidationError,
  TangoRequestValidationError,
  parseRetryAfter,
  parseErrorBody,
  formatJsonPath,
} from './errors.ts';
export { BasicAuthenticator, OAuthAuthenticator, createAuthenticator, silentLogger } from './auth.ts';
export type {
  TangoAuthenticator,
  TangoLogger,
  OAuthOptions,
  TokenCache,
  TokenLease,
  CachedToken,
} from './auth.ts';
export { TangoClient } from './client.ts';
export type {
  TangoClientOptions,
  CallOptions,
  CreateAsyncOrderResult,
  LineItemPageOptions,
  LineItemPage,
} from './client.ts';
export { signHmacPayload, verifyWebhookSignature, isEventFresh } from './webhook-signature.ts';
export type { WebhookVerificationOptions, WebhookVerificationResult } from './webhook-signature.ts';
