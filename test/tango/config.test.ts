// Configuration tests: simulator defaults on loopback only, errors that name the variable.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  ConfigError,
  LOCAL_SIMULATOR_DEFAULTS,
  loadTangoConfig,
  type LoadTangoConfigOptions,
} from '../../src/tango/config.ts';
import { generateSelfSignedCertificate, type TestCertificate } from './helpers/x509.ts';

function configError(env: Record<string, string>, options: LoadTangoConfigOptions = {}): ConfigError {
  try {
    loadTangoConfig(env, options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected loadTangoConfig to throw');
}

const SANDBOX = 'https://integration-api.tangocard.com/raas/v2';

describe('loadTangoConfig', () => {
  it('defaults to the local simulator with its credentials', () => {
    const config = loadTangoConfig({});
    assert.equal(config.baseUrl, LOCAL_SIMULATOR_DEFAULTS.baseUrl);
    assert.equal(config.isLoopback, true);
    assert.deepEqual(config.auth, {
      kind: 'basic',
      platformName: LOCAL_SIMULATOR_DEFAULTS.platformName,
      platformKey: LOCAL_SIMULATOR_DEFAULTS.platformKey,
    });
    assert.equal(config.tps, 1);
    assert.equal(config.timeoutMs, 30_000);
    assert.deepEqual(config.webhook, {
      method: 'hmac',
      hmacSecret: LOCAL_SIMULATOR_DEFAULTS.webhookHmacSecret,
      headerName: 'X-Signed-Payload',
      maxAgeSeconds: 600,
      allowUnverified: false,
      allowUndated: false,
      usesSimulatorSecret: true,
    });
    assert.equal(config.customerIdentifier, 'sim-customer');
    assert.equal(config.accountIdentifier, 'sim-account-1');
  });

  it('oauth on loopback: simulator token URL and service account', () => {
    const config = loadTangoConfig({ TANGO_AUTH: 'oauth', TANGO_BASE_URL: 'http://localhost:9999/raas/v2/' });
    assert.equal(config.baseUrl, 'http://localhost:9999/raas/v2');
    assert.deepEqual(config.auth, {
      kind: 'oauth',
      tokenUrl: 'http://localhost:9999/oauth/token',
      clientId: LOCAL_SIMULATOR_DEFAULTS.oauthClientId,
      clientSecret: LOCAL_SIMULATOR_DEFAULTS.oauthClientSecret,
      username: LOCAL_SIMULATOR_DEFAULTS.oauthUsername,
      password: LOCAL_SIMULATOR_DEFAULTS.oauthPassword,
      audience: 'https://api.tangocard.com/',
      scope: 'raas.all',
    });
  });

  it('never uses simulator secrets away from loopback', () => {
    const error = configError({ TANGO_BASE_URL: SANDBOX });
    assert.equal(error.variable, 'TANGO_PLATFORM_NAME');
    assert.match(error.message, /required for TANGO_AUTH=basic/);
    assert.match(error.message, /only on loopback/);
    assert.equal(
      configError({ TANGO_BASE_URL: SANDBOX, TANGO_PLATFORM_NAME: 'p' }).variable,
      'TANGO_PLATFORM_KEY',
    );
    const webhook = configError({
      TANGO_BASE_URL: SANDBOX,
      TANGO_PLATFORM_NAME: 'p',
      TANGO_PLATFORM_KEY: 'k',
    });
    assert.equal(webhook.variable, 'TANGO_WEBHOOK_HMAC_SECRET');
    const oauth = configError({ TANGO_BASE_URL: SANDBOX, TANGO_AUTH: 'oauth', TANGO_OAUTH_CLIENT_ID: 'id' });
    assert.equal(oauth.variable, 'TANGO_OAUTH_CLIENT_SECRET');
  });

  it('sandbox with oauth: the sandbox auth host is the default token URL', () => {
    const config = loadTangoConfig({
      TANGO_BASE_URL: SANDBOX,
      TANGO_AUTH: 'oauth',
      TANGO_OAUTH_CLIENT_ID: 'id',
      TANGO_OAUTH_CLIENT_SECRET: 'secret',
      TANGO_OAUTH_USERNAME: 'user',
      TANGO_OAUTH_PASSWORD: 'pw',
      TANGO_WEBHOOK_VERIFICATION: 'none',
    });
    assert.equal(
      config.auth.kind === 'oauth' && config.auth.tokenUrl,
      'https://sandbox-auth.tangocard.com/oauth/token',
    );
    assert.equal(config.customerIdentifier, undefined);
    const unknownHost = configError({
      TANGO_BASE_URL: 'https://tango.internal.example/raas/v2',
      TANGO_AUTH: 'oauth',
    });
    assert.equal(unknownHost.variable, 'TANGO_OAUTH_TOKEN_URL');
  });

  it('names the variable and the value that is wrong', () => {
    const tps = configError({ TANGO_TPS: 'fast' });
    assert.equal(tps.variable, 'TANGO_TPS');
    assert.match(tps.message, /^TANGO_TPS: must be a number \(got "fast"\)$/);
    assert.equal(configError({ TANGO_TPS: '0' }).variable, 'TANGO_TPS');
    assert.equal(configError({ TANGO_TIMEOUT_MS: '1.5' }).variable, 'TANGO_TIMEOUT_MS');
    assert.equal(configError({ TANGO_AUTH: 'token' }).variable, 'TANGO_AUTH');
    assert.equal(configError({ TANGO_BASE_URL: 'integration-api.tangocard.com' }).variable, 'TANGO_BASE_URL');
    const withCredentials = configError({
      TANGO_BASE_URL: 'https://name:key@integration-api.tangocard.com/raas/v2',
    });
    assert.equal(withCredentials.variable, 'TANGO_BASE_URL');
    assert.match(withCredentials.message, /must not contain user:password@/);
    assert.equal(
      configError({ TANGO_WEBHOOK_HMAC_SECRET: 'not base64!' }).variable,
      'TANGO_WEBHOOK_HMAC_SECRET',
    );
    assert.equal(
      configError({ TANGO_WEBHOOK_SIGNATURE_HEADER: 'X Signed' }).variable,
      'TANGO_WEBHOOK_SIGNATURE_HEADER',
    );
    assert.equal(configError({ TANGO_ACCOUNT_IDENTIFIER: 'abcd' }).variable, 'TANGO_ACCOUNT_IDENTIFIER');
  });

  it('reads numbers, and treats empty values as unset', () => {
    const config = loadTangoConfig({
      TANGO_TPS: '0.5',
      TANGO_TIMEOUT_MS: '5000',
      TANGO_WEBHOOK_MAX_AGE_SECONDS: '60',
      TANGO_AUTH: '',
    });
    assert.equal(config.tps, 0.5);
    assert.equal(config.timeoutMs, 5000);
    assert.equal(config.webhook.maxAgeSeconds, 60);
    assert.equal(config.auth.kind, 'basic');
  });

  describe('security: a receiver reachable from elsewhere', () => {
    const ownSecret = Buffer.from('a secret registered with Tango, 32b').toString('base64');

    it('never takes the public simulator secret off loopback, even with TANGO_BASE_URL unset', () => {
      for (const receiverHost of ['0.0.0.0', '::', '10.0.0.5', 'hooks.example.com']) {
        const error = configError({}, { receiverHost });
        assert.equal(error.variable, 'TANGO_WEBHOOK_HMAC_SECRET', receiverHost);
        assert.match(error.message, /off loopback/);
        assert.match(error.message, /public/);
      }
      // Set explicitly to the public value: refused all the same.
      const copied = configError(
        { TANGO_WEBHOOK_HMAC_SECRET: LOCAL_SIMULATOR_DEFAULTS.webhookHmacSecret },
        { receiverHost: '0.0.0.0' },
      );
      assert.equal(copied.variable, 'TANGO_WEBHOOK_HMAC_SECRET');
      // Behind a proxy on loopback, requests come from elsewhere too.
      assert.equal(
        configError({}, { receiverHost: '127.0.0.1', receiverBehindProxy: true }).variable,
        'TANGO_WEBHOOK_HMAC_SECRET',
      );
      // With its own secret it starts; on plain loopback the simulator default still applies.
      const own = loadTangoConfig({ TANGO_WEBHOOK_HMAC_SECRET: ownSecret }, { receiverHost: '0.0.0.0' });
      assert.equal(own.webhook.hmacSecret, ownSecret);
      assert.equal(own.webhook.usesSimulatorSecret, false);
      const local = loadTangoConfig({}, { receiverHost: '127.0.0.1' });
      assert.equal(local.webhook.usesSimulatorSecret, true);
    });

    it("refuses verification 'none' off loopback unless TANGO_WEBHOOK_ALLOW_UNVERIFIED=true", () => {
      const error = configError({ TANGO_WEBHOOK_VERIFICATION: 'none' }, { receiverHost: '0.0.0.0' });
      assert.equal(error.variable, 'TANGO_WEBHOOK_VERIFICATION');
      assert.match(error.message, /TANGO_WEBHOOK_ALLOW_UNVERIFIED=true/);
      const allowed = loadTangoConfig(
        { TANGO_WEBHOOK_VERIFICATION: 'none', TANGO_WEBHOOK_ALLOW_UNVERIFIED: 'true' },
        { receiverHost: '0.0.0.0' },
      );
      assert.equal(allowed.webhook.method, 'none');
      assert.equal(allowed.webhook.allowUnverified, true);
      assert.equal(
        loadTangoConfig({ TANGO_WEBHOOK_VERIFICATION: 'none' }, { receiverHost: '::1' }).webhook.method,
        'none',
      );
      assert.equal(
        configError({ TANGO_WEBHOOK_ALLOW_UNVERIFIED: 'yes' }).variable,
        'TANGO_WEBHOOK_ALLOW_UNVERIFIED',
      );
    });

    it('refuses http:// for a Tango or token URL off loopback, naming the variable', () => {
      const base = configError({
        TANGO_BASE_URL: 'http://integration-api.tangocard.com/raas/v2',
        TANGO_PLATFORM_NAME: 'p',
        TANGO_PLATFORM_KEY: 'k',
      });
      assert.equal(base.variable, 'TANGO_BASE_URL');
      assert.match(base.message, /must be https:\/\/ off loopback/);
      const token = configError({
        TANGO_BASE_URL: SANDBOX,
        TANGO_AUTH: 'oauth',
        TANGO_OAUTH_TOKEN_URL: 'http://auth.example.com/oauth/token',
      });
      assert.equal(token.variable, 'TANGO_OAUTH_TOKEN_URL');
      // Loopback http stays fine (the simulator).
      assert.equal(loadTangoConfig({ TANGO_BASE_URL: 'http://127.0.0.1:9/raas/v2' }).isLoopback, true);
    });

    it('never echoes a malformed secret in the error', () => {
      const typo = 'c2VjcmV0LXdpdGgtYS10eXBv!!';
      const error = configError({ TANGO_WEBHOOK_HMAC_SECRET: typo });
      assert.equal(error.variable, 'TANGO_WEBHOOK_HMAC_SECRET');
      assert.ok(!error.message.includes(typo), error.message);
      assert.ok(!error.message.includes('c2VjcmV0'), error.message);
    });

    it('reads TANGO_WEBHOOK_ALLOW_UNDATED (undated events are stale by default)', () => {
      assert.equal(loadTangoConfig({}).webhook.allowUndated, false);
      assert.equal(loadTangoConfig({ TANGO_WEBHOOK_ALLOW_UNDATED: 'TRUE' }).webhook.allowUndated, true);
    });
  });

  describe('x509 webhook verification', () => {
    let cert: TestCertificate;
    before(() => {
      cert = generateSelfSignedCertificate();
    });

    it('requires a readable certificate, PEM or base64 DER', () => {
      assert.equal(configError({ TANGO_WEBHOOK_VERIFICATION: 'x509' }).variable, 'TANGO_WEBHOOK_CERTIFICATE');
      const garbage = configError({
        TANGO_WEBHOOK_VERIFICATION: 'x509',
        TANGO_WEBHOOK_CERTIFICATE: 'bm90IGEgY2VydA==',
      });
      assert.match(garbage.message, /not a readable X.509 certificate/);
      const fromDer = loadTangoConfig({
        TANGO_WEBHOOK_VERIFICATION: 'x509',
        TANGO_WEBHOOK_CERTIFICATE: cert.certificateBase64Der,
      });
      assert.match(fromDer.webhook.certificate ?? '', /^-----BEGIN CERTIFICATE-----\n/);
      const fromPem = loadTangoConfig({
        TANGO_WEBHOOK_VERIFICATION: 'x509',
        TANGO_WEBHOOK_CERTIFICATE: cert.certificatePem,
      });
      assert.equal(fromPem.webhook.method, 'x509');
      assert.equal(fromPem.webhook.hmacSecret, undefined);
    });
  });
});
