// The simulator's seeded world: the credentials it accepts, the accounts it holds and the catalog it
// sells, chosen so that each failure class of the product has a reward that can trigger it.
import { LOCAL_SIMULATOR_DEFAULTS } from '../tango/config.ts';
import { type CatalogItemOption, type AccountOption } from './options.ts';

/**
 * The local credentials the simulator accepts out of the box: the client's LOCAL_SIMULATOR_DEFAULTS,
 * so the client runs against the simulator with no settings at all.
 */
export const SIMULATOR_CREDENTIAL_DEFAULTS = LOCAL_SIMULATOR_DEFAULTS;

export const DEFAULT_ACCOUNTS: AccountOption[] = [
  {
    customerIdentifier: SIMULATOR_CREDENTIAL_DEFAULTS.customerIdentifier,
    accountIdentifier: SIMULATOR_CREDENTIAL_DEFAULTS.accountIdentifier,
    displayName: 'Simulator account 1',
    currencyCode: 'USD',
    balance: 10_000_000,
    status: 'ACTIVE',
    contactEmail: 'finance@sim-customer.test',
  },
];

const ALL_DIGITAL = ['EMAIL', 'PHONE', 'WHATSAPP', 'EMBEDDED', 'EMBEDDED_COMPONENT', 'NONE'] as const;

export const DEFAULT_CATALOG: CatalogItemOption[] = [
  {
    utid: 'U000001',
    brandName: 'Simulated Digital Gift Card',
    rewardName: 'Simulated Digital Gift Card',
    rewardType: 'gift card',
    valueType: 'VARIABLE_VALUE',
    minValue: 1,
    maxValue: 500,
    currencyCode: 'USD',
    status: 'active',
    deliveryMethods: [...ALL_DIGITAL],
  },
  {
    utid: 'U000002',
    brandName: 'Simulated Physical Card',
    rewardName: 'Simulated Physical Prepaid Card',
    rewardType: 'reward card',
    valueType: 'VARIABLE_VALUE',
    minValue: 10,
    maxValue: 200,
    currencyCode: 'USD',
    status: 'active',
    deliveryMethods: ['ADDRESS'],
  },
  {
    utid: 'U000003',
    brandName: 'Simulated Fixed Card',
    rewardName: 'Simulated $25 Gift Card',
    rewardType: 'gift card',
    valueType: 'FIXED_VALUE',
    faceValue: 25,
    currencyCode: 'USD',
    status: 'active',
    deliveryMethods: ['EMAIL'],
  },
  {
    utid: 'U000004',
    brandName: 'Simulated Retired Card',
    rewardName: 'Simulated Discontinued Gift Card',
    rewardType: 'gift card',
    valueType: 'VARIABLE_VALUE',
    minValue: 1,
    maxValue: 500,
    currencyCode: 'USD',
    status: 'inactive',
    deliveryMethods: [...ALL_DIGITAL],
  },
];
