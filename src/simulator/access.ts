// Who may call the simulator: Tango's two schemes (Basic platform credentials, OAuth bearer tokens
// from POST /oauth/token) and the admin endpoints' loopback-or-token rule. Secrets compare in
// constant time.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { sameSecret } from '../http/request.ts';
import { isLoopbackHost } from '../tango/config.ts';
import { SIMULATOR_CREDENTIAL_DEFAULTS } from './defaults.ts';
import type { SimulatorOptions } from './options.ts';
import { readBody, TextError } from './requests.ts';
import type { HandlerResult, RequestContext } from './router.ts';
import { SimulatorHttpError } from './tango-errors.ts';

type SimulatorCredentials = NonNullable<SimulatorOptions['credentials']>;

export class SimulatorAccess {
  /** Issued bearer tokens and when they expire (wall clock, ms). */
  private readonly tokens = new Map<string, number>();

  constructor(private readonly options: () => SimulatorOptions) {}

  credentials(): SimulatorCredentials {
    return (
      this.options().credentials ?? {
        platformName: SIMULATOR_CREDENTIAL_DEFAULTS.platformName,
        platformKey: SIMULATOR_CREDENTIAL_DEFAULTS.platformKey,
        oauthClientId: SIMULATOR_CREDENTIAL_DEFAULTS.oauthClientId,
        oauthClientSecret: SIMULATOR_CREDENTIAL_DEFAULTS.oauthClientSecret,
        oauthUsername: SIMULATOR_CREDENTIAL_DEFAULTS.oauthUsername,
        oauthPassword: SIMULATOR_CREDENTIAL_DEFAULTS.oauthPassword,
        tokenExpiresInSeconds: 86_400,
      }
    );
  }

  authenticate(req: IncomingMessage): void {
    const header = req.headers.authorization;
    if (!header) {
      throw new SimulatorHttpError(
        401,
        '401.001',
        'Authentication required: send Basic platform credentials or a Bearer token',
        [],
        {
          'WWW-Authenticate': 'Basic realm="raas", Bearer',
        },
      );
    }
    const [scheme, value = ''] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const name = decoded.slice(0, colon);
      const key = decoded.slice(colon + 1);
      const c = this.credentials();
      if (colon > 0 && sameSecret(name, c.platformName) && sameSecret(key, c.platformKey)) return;
      throw new SimulatorHttpError(401, '401.001', 'Authentication failed: unknown platform name or key');
    }
    if (scheme?.toLowerCase() === 'bearer') {
      const expiresAt = this.tokens.get(value);
      if (expiresAt === undefined)
        throw new SimulatorHttpError(401, '401.001', 'Authentication failed: unknown token');
      if (expiresAt <= Date.now()) {
        this.tokens.delete(value);
        throw new SimulatorHttpError(401, '401.002', 'Authentication failed: the token has expired');
      }
      return;
    }
    throw new SimulatorHttpError(
      401,
      '401.001',
      `Authentication failed: unsupported scheme '${scheme ?? ''}'`,
    );
  }

  async issueToken(ctx: RequestContext): Promise<HandlerResult> {
    const type = ctx.req.headers['content-type'] ?? '';
    if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      throw new TextError(400, 'invalid_request: Content-Type must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams((await readBody(ctx.req)).toString('utf8'));
    const grantType = form.get('grant_type');
    if (grantType !== 'password') {
      throw new TextError(
        400,
        `unsupported_grant_type: expected grant_type=password, got '${grantType ?? ''}'`,
      );
    }
    const missing = ['client_id', 'client_secret', 'username', 'password'].filter((name) => !form.get(name));
    if (missing.length > 0) throw new TextError(400, `invalid_request: missing ${missing.join(', ')}`);
    const c = this.credentials();
    if (
      !sameSecret(form.get('client_id') ?? '', c.oauthClientId) ||
      !sameSecret(form.get('client_secret') ?? '', c.oauthClientSecret)
    ) {
      throw new TextError(401, 'invalid_client: unknown client_id or wrong client_secret');
    }
    if (
      !sameSecret(form.get('username') ?? '', c.oauthUsername) ||
      !sameSecret(form.get('password') ?? '', c.oauthPassword)
    ) {
      throw new TextError(401, 'invalid_grant: wrong username or password');
    }
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, Date.now() + c.tokenExpiresInSeconds * 1000);
    return {
      status: 200,
      body: {
        access_token: token,
        scope: form.get('scope') ?? 'raas.all',
        expires_in: c.tokenExpiresInSeconds,
        token_type: 'Bearer',
      },
    };
  }

  // The admin endpoints show credentials and move money: loopback only, unless a token guards them.
  checkAdminAccess(req: IncomingMessage): void {
    const { adminToken: token, host } = this.options();
    if (token === undefined) {
      if (isLoopbackHost(host)) return;
      throw new SimulatorHttpError(
        403,
        '403.000',
        `admin endpoints are served only on loopback; the simulator listens on ${host} (set adminToken to require a bearer token instead)`,
      );
    }
    const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
    if (!sameSecret(given, token)) {
      throw new SimulatorHttpError(401, '401.000', 'admin endpoints need Authorization: Bearer <adminToken>');
    }
  }
}
