// Failure classification: the built-in table, every documented i18nKey, several errors per item,
// unknown codes, operator overrides and the TANGO_ERROR_CLASSES file.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  builtInFailureClass,
  classifyError,
  classifyErrors,
  errorClassOverridesSchema,
  mostDemanding,
} from '../../src/campaign/classification.ts';
import {
  ErrorClassesFileError,
  loadErrorClassOverrides,
  parseErrorClassOverrides,
} from '../../src/input/error-classes-file.ts';
import { knownErrorCodes } from '../../src/tango/error-codes.ts';

describe('built-in classification table', () => {
  it('classifies every known code by name, value and i18nKey as error-codes.ts says', () => {
    for (const code of knownErrorCodes) {
      assert.equal(
        classifyErrors([{ errorCodeName: code.name, errorCodeValue: code.value }]),
        code.failureClass,
      );
      assert.equal(classifyErrors([{ errorCode: code.name }]), code.failureClass, `GET ${code.name}`);
      assert.equal(
        classifyErrors([{ errorCodeValue: code.value }]),
        code.failureClass,
        `value ${code.value}`,
      );
      assert.equal(classifyErrors([{ errorCode: code.name.toLowerCase() }]), code.failureClass);
      if (code.i18nKey) assert.equal(classifyErrors([{ i18nKey: code.i18nKey }]), code.failureClass);
    }
  });

  it('covers every i18nKey documented in tango-api.md', () => {
    const expected: Record<string, string> = {
      '401.001': 'needs-correction',
      '401.002': 'needs-correction',
      '401.501': 'needs-correction',
      '402.001': 'needs-funds',
      '404.033': 'needs-correction',
      '409.002': 'transient',
      '409.024': 'permanent',
      '422.025': 'needs-correction',
      '422.059': 'needs-correction',
      '422.098': 'needs-correction',
      '422.027': 'needs-correction',
      '422.029': 'needs-correction',
      '422.134': 'needs-correction',
      '422.030': 'permanent',
      '422.097': 'permanent',
      '422.147': 'needs-correction',
      '422.164': 'needs-correction',
      '422.156': 'permanent',
      '422.166': 'needs-correction',
      '429.001': 'transient',
      '429.008': 'transient',
      '503.501': 'transient',
      '503.502': 'transient',
    };
    for (const [key, failureClass] of Object.entries(expected)) {
      assert.equal(builtInFailureClass(key), failureClass, key);
      assert.deepEqual(classifyError({ i18nKey: key }), { failureClass, source: 'built-in', code: key });
    }
  });

  it('treats the 429 family as transient and other validation errors as needs-correction', () => {
    assert.equal(classifyErrors([{ i18nKey: '429.777' }]), 'transient');
    assert.equal(classifyErrors([{ i18nKey: '422.999' }]), 'needs-correction');
  });

  it('classifies unknown codes and detail-less failures as needs-correction, never transient', () => {
    assert.deepEqual(classifyError({ errorCode: 'SOMETHING_NEW' }), {
      failureClass: 'needs-correction',
      source: 'unknown',
      code: 'SOMETHING_NEW',
    });
    assert.equal(classifyErrors([{ errorCodeValue: 9999 }]), 'needs-correction');
    assert.equal(classifyErrors([{ i18nKey: '503.999' }]), 'needs-correction');
    assert.equal(classifyErrors([{ message: 'no code at all' }]), 'needs-correction');
    assert.equal(classifyErrors([]), 'needs-correction');
  });
});

describe('several errors on one item', () => {
  it('takes the most demanding class', () => {
    assert.equal(
      classifyErrors([{ errorCode: 'PROCESSING_ERROR' }, { errorCode: 'INSUFFICIENT_FUNDS' }]),
      'needs-funds',
    );
    assert.equal(
      classifyErrors([{ errorCode: 'INSUFFICIENT_FUNDS' }, { errorCode: 'INVALID_EMAIL' }]),
      'needs-correction',
    );
    assert.equal(
      classifyErrors([
        { errorCode: 'INVALID_EMAIL' },
        { errorCode: 'RECIPIENT_BLOCKED' },
        { errorCode: 'PROCESSING_ERROR' },
      ]),
      'permanent',
    );
    assert.equal(
      classifyErrors([{ errorCode: 'PROCESSING_ERROR' }, { errorCode: 'UNHEARD_OF' }]),
      'needs-correction',
    );
    assert.equal(mostDemanding([]), undefined);
    assert.equal(mostDemanding(['transient', 'permanent', 'needs-funds']), 'permanent');
  });
});

describe('overrides', () => {
  it('override the built-in class by name, value or i18nKey, and add unknown codes', () => {
    const overrides = {
      invalid_email: 'permanent',
      '500': 'needs-correction',
      NEW_CODE: 'transient',
    } as const;
    assert.equal(
      classifyErrors([{ errorCodeName: 'INVALID_EMAIL', errorCodeValue: 134 }], overrides),
      'permanent',
    );
    assert.equal(classifyErrors([{ errorCodeValue: 500 }], overrides), 'needs-correction');
    assert.equal(classifyErrors([{ errorCode: 'NEW_CODE' }], overrides), 'transient');
    assert.deepEqual(classifyError({ errorCode: 'NEW_CODE' }, overrides), {
      failureClass: 'transient',
      source: 'override',
      code: 'NEW_CODE',
    });
    assert.equal(
      classifyErrors([{ i18nKey: '429.001' }], { '429.*': 'needs-correction' }),
      'needs-correction',
    );
    assert.equal(
      classifyErrors([{ i18nKey: '429.001' }], { '429.*': 'needs-correction', '429.001': 'transient' }),
      'transient',
      'an exact code wins over a family',
    );
  });

  it('are validated by a schema shared with workflow inputs', () => {
    assert.equal(errorClassOverridesSchema.safeParse({ X: 'transient' }).success, true);
    assert.equal(errorClassOverridesSchema.safeParse({ X: 'retry' }).success, false);
    assert.equal(errorClassOverridesSchema.safeParse({ 'has space': 'transient' }).success, false);
  });
});

describe('TANGO_ERROR_CLASSES file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'error-classes-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is optional', () => {
    assert.deepEqual(loadErrorClassOverrides({}), {});
    assert.deepEqual(loadErrorClassOverrides({ TANGO_ERROR_CLASSES: ' ' }), {});
  });

  it('loads a valid file, relative to the working directory', async () => {
    await writeFile(
      path.join(dir, 'classes.json'),
      '\uFEFF{"INVALID_EMAIL": "permanent", "422.777": "needs-funds"}',
    );
    const overrides = loadErrorClassOverrides({ TANGO_ERROR_CLASSES: 'classes.json' }, dir);
    assert.deepEqual(overrides, { INVALID_EMAIL: 'permanent', '422.777': 'needs-funds' });
    assert.equal(classifyErrors([{ errorCode: 'INVALID_EMAIL' }], overrides), 'permanent');
  });

  it('names the file and the bad entry', async () => {
    const cases: [string, RegExp][] = [
      [
        '{"INVALID_EMAIL": "retry"}',
        /entry "INVALID_EMAIL": "retry" is not a failure class; use one of "transient"/,
      ],
      ['{"INVALID_EMAIL": 3}', /entry "INVALID_EMAIL": 3 is not a failure class/],
      ['["transient"]', /expected a JSON object .* got an array/],
      ['{"INVALID_EMAIL": "permanent",', /not valid JSON/],
      ['{"bad key": "transient"}', /entry "bad key": an error code is a name/],
      [
        '{"invalid_email": "permanent", "INVALID_EMAIL": "transient"}',
        /"INVALID_EMAIL" and "invalid_email" name the same code/,
      ],
    ];
    for (const [text, message] of cases) {
      const file = path.join(dir, 'bad.json');
      await writeFile(file, text);
      assert.throws(
        () => loadErrorClassOverrides({ TANGO_ERROR_CLASSES: file }),
        (error: unknown) => {
          assert.ok(error instanceof ErrorClassesFileError);
          assert.ok(error.message.includes(file), error.message);
          assert.match(error.message, message);
          return true;
        },
        text,
      );
    }
    assert.throws(
      () => parseErrorClassOverrides('null', 'x.json'),
      /x\.json: expected a JSON object .* got null/,
    );
  });

  it('fails loudly when the named file is missing', () => {
    assert.throws(
      () => loadErrorClassOverrides({ TANGO_ERROR_CLASSES: path.join(dir, 'nope.json') }),
      /nope\.json: does not exist; fix the path in TANGO_ERROR_CLASSES/,
    );
  });
});
