// Generates a throwaway self-signed RSA certificate for X.509 webhook tests (openssl CLI), in a
// temporary directory that is removed right away; nothing is committed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCertificate {
  certificatePem: string;
  privateKeyPem: string;
  /** Single-line base64 DER, the form Tango asks for in signingCertificate. */
  certificateBase64Der: string;
}

export function generateSelfSignedCertificate(commonName = 'tango-campaigns-test'): TestCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'tango-x509-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        `/CN=${commonName}`,
      ],
      { stdio: 'ignore' },
    );
    const certificatePem = readFileSync(certFile, 'utf8');
    const certificateBase64Der = certificatePem
      .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
      .replace(/\s+/g, '');
    return { certificatePem, privateKeyPem: readFileSync(keyFile, 'utf8'), certificateBase64Der };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
