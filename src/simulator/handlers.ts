// The simulator's endpoint handlers: each reads its request, asks the simulated Tango (or the webhook
// dispatcher) and returns status and body; the router names them and the server sends the result.
import type { SimulatorStats } from './server.ts';
import { SimulatorConfigError, type SimulatorOptions, type SimulatorOptionsPatch } from './options.ts';
import type { SimulatorAccess } from './access.ts';
import { parseLineItemQuery, parsePreload, parseReversal, readJson, shownOptions } from './requests.ts';
import type { HandlerResult, RequestContext } from './router.ts';
import type { SimulatedTango } from './simulated-tango.ts';
import { SimulatorHttpError } from './tango-errors.ts';
import { parseCreateOrderRequest, parseUpdateOrderRequest } from './validation.ts';
import type { WebhookDispatcher } from './webhooks.ts';

/** What the handlers act on: the simulator's state and its knobs. */
export interface SimulatorState {
  options(): SimulatorOptions;
  configure(patch: SimulatorOptionsPatch): SimulatorOptions;
  readonly tango: SimulatedTango;
  readonly webhooks: WebhookDispatcher;
  readonly access: SimulatorAccess;
  stats(): SimulatorStats;
}

export type Handler = (ctx: RequestContext) => Promise<HandlerResult> | HandlerResult;

export function createHandlers(state: SimulatorState) {
  const clockView = () => ({
    now: new Date(state.tango.now()).toISOString(),
    offsetMs: state.tango.clockOffset(),
  });

  return {
    issueToken: (ctx: RequestContext) => state.access.issueToken(ctx),
    createOrder: async (ctx: RequestContext): Promise<HandlerResult> => {
      const body = await readJson(ctx.req);
      const outcome = state.tango.create(parseCreateOrderRequest(body));
      return { status: outcome.httpStatus, body: outcome.body };
    },
    getOrder: (ctx: RequestContext): HandlerResult => {
      const [c = '', a = '', ref = ''] = ctx.params;
      return { status: 200, body: state.tango.get(c, a, ref, parseLineItemQuery(ctx.url)) };
    },
    updateOrder: async (ctx: RequestContext): Promise<HandlerResult> => {
      const [c = '', a = '', ref = ''] = ctx.params;
      const patch = parseUpdateOrderRequest(await readJson(ctx.req));
      return { status: 200, body: state.tango.update(c, a, ref, patch) };
    },
    registerWebhook: async (ctx: RequestContext): Promise<HandlerResult> => {
      const subscription = state.webhooks.register(await readJson(ctx.req));
      const { hmacSharedSecretKey: _secret, ...shown } = subscription;
      return { status: 201, body: shown };
    },
    renewWebhook: (ctx: RequestContext): HandlerResult => {
      const { hmacSharedSecretKey: _secret, ...shown } = state.webhooks.renew(ctx.params[0] ?? '');
      return { status: 200, body: shown };
    },
    adminRemoveWebhook: (ctx: RequestContext): HandlerResult => {
      const id = ctx.params[0] ?? '';
      if (!state.webhooks.remove(id))
        throw new SimulatorHttpError(404, '404.001', `webhook subscription '${id}' was not found`);
      return { status: 200, body: { removed: id } };
    },
    listWebhooks: (): HandlerResult => ({
      status: 200,
      body: state.webhooks.list().map(({ hmacSharedSecretKey: _secret, ...shown }) => shown),
    }),
    catalog: (): HandlerResult => ({ status: 200, body: state.tango.catalogView() }),
    account: (ctx: RequestContext): HandlerResult => ({
      status: 200,
      body: state.tango.accountView(ctx.params[0] ?? ''),
    }),
    adminLedger: (): HandlerResult => {
      state.tango.deliverDue();
      return {
        status: 200,
        body: {
          size: state.tango.ledger.size,
          entries: state.tango.ledger.entries(),
          duplicates: state.tango.ledger.duplicates(),
        },
      };
    },
    adminStats: (): HandlerResult => ({ status: 200, body: state.stats() }),
    adminGetConfig: (): HandlerResult => ({ status: 200, body: shownOptions(state.options()) }),
    adminConfig: async (ctx: RequestContext): Promise<HandlerResult> => {
      const patch = (await readJson(ctx.req)) as SimulatorOptionsPatch;
      try {
        return { status: 200, body: shownOptions(state.configure(patch)) };
      } catch (error) {
        if (error instanceof SimulatorConfigError)
          throw new SimulatorHttpError(400, '400.001', error.message);
        throw error;
      }
    },
    adminFunds: async (ctx: RequestContext): Promise<HandlerResult> => {
      const body = (await readJson(ctx.req)) as { amount?: unknown } | null;
      const account = state.tango.addFunds(ctx.params[0] ?? '', Number(body?.amount));
      return {
        status: 200,
        body: { accountIdentifier: account.accountIdentifier, currentBalance: account.balance },
      };
    },
    adminPreloadOrder: async (ctx: RequestContext): Promise<HandlerResult> => ({
      status: 201,
      body: state.tango.preload(parsePreload(await readJson(ctx.req))),
    }),
    adminGetClock: (): HandlerResult => ({ status: 200, body: clockView() }),
    adminClock: async (ctx: RequestContext): Promise<HandlerResult> => {
      const body = (await readJson(ctx.req)) as { advanceMs?: unknown } | null;
      state.tango.advanceClock(Number(body?.advanceMs));
      return { status: 200, body: clockView() };
    },
    adminReversal: async (ctx: RequestContext): Promise<HandlerResult> => ({
      status: 200,
      body: state.tango.reverse(parseReversal(await readJson(ctx.req))),
    }),
    adminWebhooks: (): HandlerResult => ({
      status: 200,
      body: { subscriptions: state.webhooks.list(), deliveries: state.webhooks.deliveries() },
    }),
  };
}

export type SimulatorHandlers = ReturnType<typeof createHandlers>;
