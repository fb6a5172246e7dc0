// The failure converter of clients and workers that encrypt payloads: failure messages and stack
// traces go into the failure's encoded attributes, so the payload codec encrypts them too (item ids,
// invalid values and Tango's error text would otherwise sit in clear in history). Loaded by path
// (DataConverter.failureConverterPath), also into the workflow bundle: sandbox-safe.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
