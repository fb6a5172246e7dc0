// Fault injection on Tango routes: latency and spikes, TPS rate limiting, server errors, dropped
// connections and responses lost after processing, from the seeded rates or a script of faults
// that fire in order (docs/simulator.md). Each fault is counted for stats().
import type { IncomingMessage } from 'node:http';
import type { SimulatorOptions } from './options.ts';
import type { SeededRandom } from './random.ts';
import { SimulatorHttpError } from './tango-errors.ts';

export interface FaultCounts {
  rateLimited: number;
  serverErrors: number;
  droppedConnections: number;
  responsesLost: number;
  delayedRequests: number;
}

/** What a Tango request goes on to: handled (its response maybe lost), or already dropped. */
export type FaultOutcome = { dropped: true } | { dropped: false; responseLost: boolean };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class FaultInjector {
  readonly counts: FaultCounts = {
    rateLimited: 0,
    serverErrors: 0,
    droppedConnections: 0,
    responsesLost: 0,
    delayedRequests: 0,
  };
  private readonly recentRequests: number[] = [];
  private script: (SimulatorOptions['faults']['script'][number] & { remaining: number })[] = [];

  constructor(
    private readonly options: () => SimulatorOptions,
    private readonly random: SeededRandom,
  ) {
    this.resetScript();
  }

  /** Starts the configured script over (at start, and when configure() sets a new one). */
  resetScript(): void {
    this.script = this.options().faults.script.map((fault) => ({ ...fault, remaining: fault.times }));
  }

  /** Delays the request as configured (before authentication, as network latency would). */
  async delay(): Promise<void> {
    const { latencyMs, latencySpikeRate, latencySpikeMs } = this.options().faults;
    const delay = latencyMs + (this.random.chance(latencySpikeRate) ? latencySpikeMs : 0);
    if (delay > 0) {
      this.counts.delayedRequests += 1;
      await sleep(delay);
    }
  }

  /**
   * Applies the faults due to an authenticated Tango request: throws the 429 / 500 / 503 it gets,
   * destroys the connection it drops, or says whether its response is to be lost after processing
   * (only requests that change state).
   */
  apply(req: IncomingMessage, method: string, path: string, mutating: boolean): FaultOutcome {
    const faults = this.options().faults;
    const scripted = this.takeScripted(method, path);
    if (scripted === 'rateLimit' || (scripted === undefined && this.rateLimited())) {
      this.counts.rateLimited += 1;
      throw new SimulatorHttpError(429, '429.001', 'Exceeded the allowable TPS rate limit; retry later', [], {
        'Retry-After': String(faults.retryAfterSeconds),
      });
    }
    const serverError =
      scripted === 'serverError500'
        ? 500
        : scripted === 'serverError503'
          ? 503
          : scripted === undefined && this.random.chance(faults.serverErrorRate)
            ? this.random.next() < 0.5
              ? 500
              : 503
            : undefined;
    if (serverError === 500) {
      this.counts.serverErrors += 1;
      throw new SimulatorHttpError(500, '500.001', 'Something went wrong on the server (simulated fault)');
    }
    if (serverError === 503) {
      this.counts.serverErrors += 1;
      throw new SimulatorHttpError(503, '503.501', 'Temporary outage (simulated fault); retry later');
    }
    if (
      scripted === 'dropConnection' ||
      (scripted === undefined && this.random.chance(faults.dropConnectionRate))
    ) {
      this.counts.droppedConnections += 1;
      req.socket.destroy();
      return { dropped: true };
    }
    const responseLost =
      mutating &&
      (scripted === 'responseLost' ||
        (scripted === undefined && this.random.chance(faults.responseLostRate)));
    return { dropped: false, responseLost };
  }

  private takeScripted(method: string, path: string) {
    const index = this.script.findIndex(
      (fault) =>
        fault.remaining > 0 &&
        (fault.method === undefined || fault.method.toUpperCase() === method) &&
        (fault.path === undefined || path.includes(fault.path)),
    );
    const fault = this.script[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    return fault.kind;
  }

  private rateLimited(): boolean {
    const tps = this.options().faults.rateLimitTps;
    if (tps <= 0) return false;
    const now = Date.now();
    while (this.recentRequests.length > 0 && (this.recentRequests[0] ?? 0) <= now - 1000)
      this.recentRequests.shift();
    if (this.recentRequests.length >= tps) return true;
    this.recentRequests.push(now);
    return false;
  }
}
