// Checks requests the way Tango documents them, written from the API pages (not from our client's
// schemas, so the simulator catches what the client gets wrong): request-level problems become a
// 400 with Tango's error body; problems of one line item become that item's failedLineItems errors.
import { knownErrorCodes, type KnownErrorCode } from '../tango/error-codes.ts';
import { deliveryMethods, type CatalogItem, type DeliveryMethod } from './options.ts';
import { fieldError, SimulatorHttpError, type TangoFieldError } from './tango-errors.ts';

export interface Address {
  companyName?: string;
  streetLine1?: string;
  streetLine2?: string;
  city?: string;
  stateOrProvince?: string;
  postalCode?: string;
  country?: string;
}

export interface Recipient {
  firstName?: string;
  lastName?: string;
  email?: string;
  mobileNumber?: string;
  address?: Address;
}

export interface Sender {
  firstName?: string;
  lastName?: string;
  email?: string;
}

export interface LineItemInput {
  externalRefLineItemID: string;
  recipient?: Recipient;
  utid: string;
  amount: number;
  deliveryMethod: DeliveryMethod;
  deliveryDate?: string;
  etid?: string;
  ptid?: string;
  expirationDate?: string;
  emailSubject?: string;
  message?: string;
  lineItemNote?: string;
}

export interface CreateOrderInput {
  externalRefID: string;
  customerIdentifier: string;
  accountIdentifier: string;
  sender?: Sender;
  campaign?: string;
  purchaseOrderNumber?: string;
  notes?: string;
  lineItems: LineItemInput[];
}

export interface UpdateOrderInput {
  campaign?: string;
  purchaseOrderNumber?: string;
  notes?: string;
}

export interface LineItemProblem {
  field: string;
  code: KnownErrorCode;
  message: string;
}

const codesByName = new Map(knownErrorCodes.map((code) => [code.name, code]));

/** The error code with this name from src/tango/error-codes.ts (a missing one is a simulator bug). */
export function errorCode(name: string): KnownErrorCode {
  const code = codesByName.get(name);
  if (!code) throw new Error(`simulator: error code ${name} is not in src/tango/error-codes.ts`);
  return code;
}

// Deliberately simple: Tango documents "a well-formed email address", not an RFC.
const emailPattern = /^[^\s@"(),:;<>[\]\\]+@[^\s@"(),:;<>[\]\\]+\.[A-Za-z]{2,}$/;
const phonePattern = /^\+?[0-9][0-9 ().-]{5,24}$/;

export function isWellFormedEmail(value: string): boolean {
  return emailPattern.test(value);
}

export function isPlausiblePhone(value: string): boolean {
  const digits = value.replace(/\D/g, '').length;
  return phonePattern.test(value.trim()) && digits >= 7 && digits <= 15;
}

class FieldCollector {
  readonly errors: TangoFieldError[] = [];

  add(path: string, constraint: string, message: string, value: unknown): void {
    // A 10,000-item request with one systematic mistake would otherwise answer with 10,000 errors.
    if (this.errors.length < 100) this.errors.push(fieldError(path, constraint, message, value));
  }

  isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  }

  requiredString(obj: Record<string, unknown>, key: string, path: string, min: number, max: number): string {
    const value = obj[key];
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
      this.add(path, 'NotBlank', 'must not be blank', value);
      return '';
    }
    if (typeof value !== 'string') {
      this.add(path, 'Type', 'must be a string', value);
      return '';
    }
    if (value.length < min || value.length > max) {
      this.add(path, 'Size', `size must be between ${min} and ${max}`, value);
    }
    return value;
  }

  optionalString(obj: Record<string, unknown>, key: string, path: string, max: number): string | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.add(path, 'Type', 'must be a string', value);
      return undefined;
    }
    if (value.length > max) this.add(path, 'Size', `size must be between 0 and ${max}`, value);
    return value;
  }

  optionalDate(obj: Record<string, unknown>, key: string, path: string): string | undefined {
    const value = this.optionalString(obj, key, path, 64);
    if (value !== undefined && Number.isNaN(Date.parse(value))) {
      this.add(path, 'Format', 'must be an ISO 8601 date', value);
      return undefined;
    }
    return value;
  }
}

function invalidRequest(errors: TangoFieldError[]): SimulatorHttpError {
  const first = errors[0];
  const summary = first ? `${first.path} ${first.message}` : 'invalid request';
  return new SimulatorHttpError(400, '400.001', `Request is invalid: ${summary}`, errors);
}

function parseAddress(c: FieldCollector, value: unknown, path: string): Address | undefined {
  if (value === undefined || value === null) return undefined;
  if (!c.isObject(value)) {
    c.add(path, 'Type', 'must be an object', value);
    return undefined;
  }
  const address: Address = {};
  for (const key of [
    'companyName',
    'streetLine1',
    'streetLine2',
    'city',
    'stateOrProvince',
    'postalCode',
    'country',
  ] as const) {
    const field = c.optionalString(value, key, `${path}.${key}`, 100);
    if (field !== undefined) address[key] = field;
  }
  return address;
}

function parseRecipient(c: FieldCollector, value: unknown, path: string): Recipient | undefined {
  if (value === undefined || value === null) return undefined;
  if (!c.isObject(value)) {
    c.add(path, 'Type', 'must be an object', value);
    return undefined;
  }
  const recipient: Recipient = {};
  const firstName = c.optionalString(value, 'firstName', `${path}.firstName`, 100);
  const lastName = c.optionalString(value, 'lastName', `${path}.lastName`, 100);
  const email = c.optionalString(value, 'email', `${path}.email`, 255);
  const mobileNumber = c.optionalString(value, 'mobileNumber', `${path}.mobileNumber`, 30);
  const address = parseAddress(c, value['address'], `${path}.address`);
  if (firstName !== undefined) recipient.firstName = firstName;
  if (lastName !== undefined) recipient.lastName = lastName;
  if (email !== undefined) recipient.email = email;
  if (mobileNumber !== undefined) recipient.mobileNumber = mobileNumber;
  if (address !== undefined) recipient.address = address;
  return recipient;
}

function parseLineItem(c: FieldCollector, value: unknown, path: string): LineItemInput | undefined {
  if (!c.isObject(value)) {
    c.add(path, 'Type', 'must be an object', value);
    return undefined;
  }
  const externalRefLineItemID = c.requiredString(
    value,
    'externalRefLineItemID',
    `${path}.externalRefLineItemID`,
    1,
    150,
  );
  const utid = c.requiredString(value, 'utid', `${path}.utid`, 1, 100);
  const amount = value['amount'];
  if (amount === undefined || amount === null) c.add(`${path}.amount`, 'NotNull', 'must not be null', amount);
  else if (typeof amount !== 'number' || !Number.isFinite(amount)) {
    c.add(`${path}.amount`, 'Type', 'must be a number', amount);
  }
  const method = value['deliveryMethod'];
  if (method === undefined || method === null) {
    c.add(`${path}.deliveryMethod`, 'NotNull', 'must not be null', method);
  } else if (typeof method !== 'string' || !(deliveryMethods as readonly string[]).includes(method)) {
    c.add(`${path}.deliveryMethod`, 'Enum', `must be one of ${deliveryMethods.join(', ')}`, method);
  }
  const item: LineItemInput = {
    externalRefLineItemID,
    utid,
    amount: typeof amount === 'number' ? amount : 0,
    deliveryMethod: method as DeliveryMethod,
  };
  const recipient = parseRecipient(c, value['recipient'], `${path}.recipient`);
  if (recipient) item.recipient = recipient;
  const optional = {
    deliveryDate: c.optionalDate(value, 'deliveryDate', `${path}.deliveryDate`),
    expirationDate: c.optionalDate(value, 'expirationDate', `${path}.expirationDate`),
    etid: c.optionalString(value, 'etid', `${path}.etid`, 100),
    ptid: c.optionalString(value, 'ptid', `${path}.ptid`, 100),
    emailSubject: c.optionalString(value, 'emailSubject', `${path}.emailSubject`, 255),
    message: c.optionalString(value, 'message', `${path}.message`, 1024),
    lineItemNote: c.optionalString(value, 'lineItemNote', `${path}.lineItemNote`, 150),
  };
  for (const [key, field] of Object.entries(optional)) {
    if (field !== undefined) (item as unknown as Record<string, string>)[key] = field;
  }
  return item;
}

/** Parses a POST /asyncOrders body; throws a 400 SimulatorHttpError listing every field problem. */
export function parseCreateOrderRequest(body: unknown): CreateOrderInput {
  const c = new FieldCollector();
  if (!c.isObject(body)) throw invalidRequest([fieldError('(body)', 'Type', 'must be a JSON object', body)]);
  const externalRefID = c.requiredString(body, 'externalRefID', 'externalRefID', 1, 100);
  const customerIdentifier = c.requiredString(body, 'customerIdentifier', 'customerIdentifier', 1, 100);
  const accountIdentifier = c.requiredString(body, 'accountIdentifier', 'accountIdentifier', 5, 100);
  const campaign = c.optionalString(body, 'campaign', 'campaign', 1024);
  const purchaseOrderNumber = c.optionalString(body, 'purchaseOrderNumber', 'purchaseOrderNumber', 100);
  const notes = c.optionalString(body, 'notes', 'notes', 150);
  let sender: Sender | undefined;
  const rawSender = body['sender'];
  if (rawSender !== undefined && rawSender !== null) {
    if (!c.isObject(rawSender)) c.add('sender', 'Type', 'must be an object', rawSender);
    else {
      sender = {};
      const firstName = c.optionalString(rawSender, 'firstName', 'sender.firstName', 100);
      const lastName = c.optionalString(rawSender, 'lastName', 'sender.lastName', 100);
      const email = c.optionalString(rawSender, 'email', 'sender.email', 255);
      if (email !== undefined && !isWellFormedEmail(email)) {
        c.errors.push(
          fieldError('sender.email', 'Email', 'not a well-formed email address', email, '422.134'),
        );
      }
      if (firstName !== undefined) sender.firstName = firstName;
      if (lastName !== undefined) sender.lastName = lastName;
      if (email !== undefined) sender.email = email;
    }
  }
  const rawItems = body['lineItems'];
  const lineItems: LineItemInput[] = [];
  if (!Array.isArray(rawItems)) {
    c.add('lineItems', 'NotEmpty', 'at least one line item is required', rawItems);
  } else if (rawItems.length === 0) {
    c.add('lineItems', 'NotEmpty', 'at least one line item is required', '[]');
  } else {
    rawItems.forEach((raw, index) => {
      const item = parseLineItem(c, raw, `lineItems[${index}]`);
      if (item) lineItems.push(item);
    });
  }
  if (c.errors.length > 0) throw invalidRequest(c.errors);
  const order: CreateOrderInput = { externalRefID, customerIdentifier, accountIdentifier, lineItems };
  if (sender) order.sender = sender;
  if (campaign !== undefined) order.campaign = campaign;
  if (purchaseOrderNumber !== undefined) order.purchaseOrderNumber = purchaseOrderNumber;
  if (notes !== undefined) order.notes = notes;
  return order;
}

const updatableFields = new Set(['campaign', 'purchaseOrderNumber', 'notes']);

/** Parses a PATCH body: only the documented metadata fields; anything else is refused, not ignored. */
export function parseUpdateOrderRequest(body: unknown): UpdateOrderInput {
  const c = new FieldCollector();
  if (!c.isObject(body)) throw invalidRequest([fieldError('(body)', 'Type', 'must be a JSON object', body)]);
  for (const key of Object.keys(body)) {
    if (!updatableFields.has(key)) {
      c.add(key, 'NotUpdatable', 'only campaign, purchaseOrderNumber and notes can be updated', body[key]);
    }
  }
  const update: UpdateOrderInput = {};
  const campaign = c.optionalString(body, 'campaign', 'campaign', 1024);
  const purchaseOrderNumber = c.optionalString(body, 'purchaseOrderNumber', 'purchaseOrderNumber', 100);
  const notes = c.optionalString(body, 'notes', 'notes', 150);
  if (c.errors.length > 0) throw invalidRequest(c.errors);
  if (campaign !== undefined) update.campaign = campaign;
  if (purchaseOrderNumber !== undefined) update.purchaseOrderNumber = purchaseOrderNumber;
  if (notes !== undefined) update.notes = notes;
  return update;
}

const sevenDaysMs = 7 * 24 * 60 * 60 * 1000;

function problem(name: string, message?: string): LineItemProblem {
  const code = errorCode(name);
  return { field: code.field ?? '', code, message: message ?? code.description };
}

/**
 * The problems Tango reports for one line item at submit time (failedLineItems): catalog, amount,
 * contact details the delivery method needs, delivery date. Processing-time failures live elsewhere.
 */
export function submitTimeProblems(
  item: LineItemInput,
  catalogItem: CatalogItem | undefined,
  accountCurrency: string,
  now: number,
): LineItemProblem[] {
  const problems: LineItemProblem[] = [];
  if (!catalogItem) {
    if (!/^U\d+$/.test(item.utid))
      problems.push(problem('INVALID_UTID_FORMAT', `utid '${item.utid}' has the wrong format`));
    else problems.push(problem('UNKNOWN_UTID', `utid '${item.utid}' is not in the catalog`));
  } else if (catalogItem.status !== 'active') {
    problems.push(problem('ITEM_INACTIVE', `reward ${item.utid} is inactive`));
  } else {
    if (catalogItem.currencyCode !== accountCurrency) {
      problems.push(
        problem(
          'CURRENCY_MISMATCH',
          `reward currency ${catalogItem.currencyCode} differs from account currency ${accountCurrency}`,
        ),
      );
    }
    if (catalogItem.valueType === 'FIXED_VALUE') {
      if (item.amount !== catalogItem.faceValue) {
        problems.push(
          problem(
            'WRONG_FIXED_AMOUNT',
            `reward ${item.utid} has the fixed value ${catalogItem.faceValue}, not ${item.amount}`,
          ),
        );
      }
    } else {
      const min = catalogItem.minValue ?? 0.01;
      const max = catalogItem.maxValue ?? Number.MAX_SAFE_INTEGER;
      if (!(item.amount >= min && item.amount <= max)) {
        problems.push(
          problem(
            'AMOUNT_OUT_OF_RANGE',
            `amount ${item.amount} is outside ${min}-${max} for reward ${item.utid}`,
          ),
        );
      }
    }
  }
  const recipient = item.recipient;
  switch (item.deliveryMethod) {
    case 'EMAIL':
      if (!recipient?.email) problems.push(problem('EMAIL_REQUIRED'));
      else if (!isWellFormedEmail(recipient.email)) {
        problems.push(problem('INVALID_EMAIL', `'${recipient.email}' is not a well-formed email address`));
      }
      break;
    case 'PHONE':
    case 'WHATSAPP':
      if (!recipient?.mobileNumber || !isPlausiblePhone(recipient.mobileNumber)) {
        problems.push(
          problem('INVALID_PHONE', `a valid recipient.mobileNumber is required for ${item.deliveryMethod}`),
        );
      }
      break;
    case 'ADDRESS': {
      const a = recipient?.address;
      const missing = (['streetLine1', 'city', 'stateOrProvince', 'postalCode', 'country'] as const).filter(
        (key) => !a?.[key]?.trim(),
      );
      if (missing.length > 0) {
        problems.push(problem('INVALID_ADDRESS', `recipient.address is missing ${missing.join(', ')}`));
      }
      break;
    }
    default:
      break;
  }
  if (recipient?.email && item.deliveryMethod !== 'EMAIL' && !isWellFormedEmail(recipient.email)) {
    problems.push(problem('INVALID_EMAIL', `'${recipient.email}' is not a well-formed email address`));
  }
  // Compared by calendar day (UTC): a client that computes "7 days from now" must not lose the race.
  const earliest = new Date(now + sevenDaysMs);
  earliest.setUTCHours(0, 0, 0, 0);
  if (item.deliveryDate !== undefined && Date.parse(item.deliveryDate) < earliest.getTime()) {
    problems.push(
      problem('INVALID_DELIVERY_DATE', `deliveryDate ${item.deliveryDate} is less than 7 days ahead`),
    );
  }
  return problems;
}
