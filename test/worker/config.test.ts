// The process configuration: defaults, errors that name the variable, and logs without secrets.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadProcessConfig, loadTemporalConfig } from '../../src/config.ts';
import { DEFAULT_TASK_QUEUE } from '../../src/definitions.ts';
import { createJsonLogger, loggerSecrets, redact } from '../../src/worker.ts';

// No HOME: envconfig must not pick up a developer's ~/.config/temporalio/temporal.toml.
const base = { HOME: '/nonexistent-home' };

function errorFor(env: Record<string, string>): Error {
  try {
    loadProcessConfig({ ...base, ...env });
  } catch (error) {
    return error as Error;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadProcessConfig', () => {
  it('has local defaults for everything', () => {
    const config = loadProcessConfig(base);
    assert.equal(config.temporal.connection.address, '127.0.0.1:7233');
    assert.equal(config.temporal.namespace, 'default');
    assert.equal(config.temporal.taskQueue, DEFAULT_TASK_QUEUE);
    assert.equal(config.store.url, 'file://.data/store');
    assert.equal(config.tango.tps, 1);
    assert.deepEqual(config.tuning, {
      maxConcurrentActivityTaskExecutions: 100,
      maxConcurrentWorkflowTaskExecutions: 40,
      maxCachedWorkflows: undefined,
      shutdownGraceTimeMs: 30_000,
    });
    assert.equal(config.metrics.bindAddress, undefined);
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.codec.keys, []);
  });

  it('reads tuning, metrics, task queue and the Temporal connection', () => {
    const config = loadProcessConfig({
      ...base,
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'rewards',
      TEMPORAL_API_KEY: 'api-key-value',
      TEMPORAL_TASK_QUEUE: 'rewards-eu',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '20',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '10',
      WORKER_MAX_CACHED_WORKFLOWS: '500',
      WORKER_SHUTDOWN_GRACE_SECONDS: '90',
      METRICS_PORT: '9464',
      METRICS_HOST: '0.0.0.0',
      TANGO_TPS: '5',
      LOG_LEVEL: 'warn',
    });
    assert.equal(config.temporal.connection.address, 'temporal.internal:7233');
    assert.equal(config.temporal.connection.apiKey, 'api-key-value');
    assert.equal(config.temporal.connection.tls, true, 'an API key turns TLS on');
    assert.equal(config.temporal.namespace, 'rewards');
    assert.equal(config.temporal.taskQueue, 'rewards-eu');
    assert.deepEqual(config.tuning, {
      maxConcurrentActivityTaskExecutions: 20,
      maxConcurrentWorkflowTaskExecutions: 10,
      maxCachedWorkflows: 500,
      shutdownGraceTimeMs: 90_000,
    });
    assert.equal(config.metrics.bindAddress, '0.0.0.0:9464');
    assert.equal(config.tango.tps, 5);
    assert.equal(config.logLevel, 'warn');
  });

  it('treats empty values as unset', () => {
    const config = loadProcessConfig({ ...base, WORKER_MAX_CACHED_WORKFLOWS: '', METRICS_PORT: ' ' });
    assert.equal(config.tuning.maxCachedWorkflows, undefined);
    assert.equal(config.metrics.bindAddress, undefined);
  });

  for (const [variable, value, message] of [
    ['WORKER_MAX_CONCURRENT_ACTIVITIES', 'ten', /whole number/],
    ['WORKER_MAX_CONCURRENT_ACTIVITIES', '0', /at least 1/],
    ['WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', '1', /at least 2/],
    ['WORKER_MAX_CACHED_WORKFLOWS', '-1', /at least 0/],
    ['WORKER_SHUTDOWN_GRACE_SECONDS', '1.5', /whole number/],
    ['METRICS_PORT', '70000', /at most 65535/],
    ['LOG_LEVEL', 'verbose', /debug|info/],
    ['TEMPORAL_TASK_QUEUE', 'has spaces', /characters/],
    ['TEMPORAL_ADDRESS', 'http://temporal:7233/', /host:port/],
    ['TANGO_TPS', '0', /greater than 0/],
    ['CODEC_KEYS', 'nocolon', /keyId/],
  ] as const) {
    it(`names ${variable} when it is ${JSON.stringify(value)}`, () => {
      const error = errorFor({ [variable]: value });
      assert.ok(error instanceof ConfigError, `${error.name}: ${error.message}`);
      assert.equal(error.variable, variable);
      assert.match(error.message, new RegExp(`^${variable}: `));
      assert.match(error.message, message);
    });
  }

  it('names CAMPAIGN_STORE and TANGO_ERROR_CLASSES through their own loaders', () => {
    assert.match(errorFor({ CAMPAIGN_STORE: 'not a url' }).message, /CAMPAIGN_STORE/);
    assert.match(errorFor({ TANGO_ERROR_CLASSES: '/no/such/file.json' }).message, /TANGO_ERROR_CLASSES/);
  });

  it('names TEMPORAL_CONFIG_FILE when the profile file is broken', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tango-campaigns-envconfig-'));
    try {
      const file = path.join(dir, 'temporal.toml');
      writeFileSync(file, '[profile.default\naddress = ');
      assert.throws(
        () => loadTemporalConfig({ TEMPORAL_CONFIG_FILE: file }),
        (error: unknown) => error instanceof ConfigError && error.variable === 'TEMPORAL_CONFIG_FILE',
      );
      writeFileSync(file, '[profile.prod]\naddress = "prod.tmprl.cloud:7233"\nnamespace = "rewards.acct"\n');
      const prod = loadTemporalConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
      assert.equal(prod.connection.address, 'prod.tmprl.cloud:7233');
      assert.equal(prod.namespace, 'rewards.acct');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('JSON logs', () => {
  it('never print configured secrets, Authorization headers or key-named fields', () => {
    const codecKey = randomBytes(32).toString('base64');
    const config = loadProcessConfig({
      ...base,
      TANGO_BASE_URL: 'https://integration-api.tangocard.com/raas/v2',
      TANGO_PLATFORM_NAME: 'acme',
      TANGO_PLATFORM_KEY: 'very-secret-platform-key',
      TANGO_WEBHOOK_HMAC_SECRET: randomBytes(32).toString('base64'),
      CODEC_KEYS: `k1:${codecKey}`,
      TEMPORAL_API_KEY: 'temporal-cloud-api-key',
    });
    const lines: string[] = [];
    const logger = createJsonLogger({
      level: 'debug',
      secrets: loggerSecrets(config),
      write: (l) => lines.push(l),
    });
    const basic = Buffer.from('acme:very-secret-platform-key').toString('base64');
    logger.debug('tango request', {
      headers: { Authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      url: 'https://integration-api.tangocard.com/raas/v2/asyncOrders',
    });
    logger.error(`failed with key very-secret-platform-key and ${codecKey}`, {
      nested: { apiKey: 'anything', list: ['temporal-cloud-api-key'] },
      error: new Error(`hmac ${config.tango.webhook.hmacSecret}`),
      password: 'hunter2hunter2',
    });
    logger.trace('below the level');
    assert.equal(lines.length, 2);
    const text = lines.join('');
    for (const secret of [
      'very-secret-platform-key',
      basic,
      codecKey,
      config.tango.webhook.hmacSecret!,
      'temporal-cloud-api-key',
      'hunter2hunter2',
    ])
      assert.ok(!text.includes(secret), `secret leaked: ${secret}\n${text}`);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(first.level, 'debug');
    assert.equal(first.msg, 'tango request');
    assert.deepEqual(first.headers, { Authorization: '[redacted]', 'content-type': 'application/json' });
    assert.match(lines[1]!, /failed with key \[redacted\] and \[redacted\]/);
  });

  it('leaves ordinary data alone', () => {
    assert.deepEqual(redact({ campaignId: 'c1', counts: { delivered: 3 }, keyId: 'k1' }, ['zzzzzz']), {
      campaignId: 'c1',
      counts: { delivered: 3 },
      keyId: 'k1',
    });
  });
});
