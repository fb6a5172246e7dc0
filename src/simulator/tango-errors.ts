// Tango's error body for non-2xx answers, and the request-level errors the simulator raises while
// handling a request (thrown, then turned into the body by the server).

export interface TangoFieldError {
  path: string;
  i18nKey: string;
  message: string;
  invalidValue: string | null;
  constraint: string;
}

export interface TangoErrorBody {
  timestamp: string;
  requestId: string;
  path: string;
  httpCode: number;
  httpPhrase: string;
  i18nKey: string;
  message: string;
  errors: TangoFieldError[];
}

const phrases: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function httpPhrase(status: number): string {
  return phrases[status] ?? 'Error';
}

/** A request-level failure: the handler throws it, the server answers with Tango's error body. */
export class SimulatorHttpError extends Error {
  constructor(
    readonly status: number,
    readonly i18nKey: string,
    message: string,
    readonly errors: TangoFieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'SimulatorHttpError';
  }
}

export function fieldError(
  path: string,
  constraint: string,
  message: string,
  invalidValue: unknown,
  i18nKey = constraint,
): TangoFieldError {
  let shown: string | null;
  if (invalidValue === undefined || invalidValue === null) shown = null;
  else if (typeof invalidValue === 'string')
    shown = invalidValue.length > 200 ? `${invalidValue.slice(0, 200)}...` : invalidValue;
  else shown = JSON.stringify(invalidValue)?.slice(0, 200) ?? null;
  return { path, i18nKey, message, invalidValue: shown, constraint };
}

export function errorBody(error: SimulatorHttpError, requestId: string, path: string): TangoErrorBody {
  return {
    timestamp: new Date().toISOString(),
    requestId,
    path,
    httpCode: error.status,
    httpPhrase: httpPhrase(error.status),
    i18nKey: error.i18nKey,
    message: error.message,
    errors: error.errors,
  };
}
