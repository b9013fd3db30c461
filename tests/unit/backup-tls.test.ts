import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { derive, issue, keyFromSeed } from '../../src/backup/x509.js';
import { tempDir } from '../helpers/tmp.js';

/** pgBackRest's TLS certificates: made here (DER by hand, Ed25519), checked by OpenSSL itself. */
const tmp = tempDir('twincigo-x509-');
afterAll(() => tmp.cleanup());
const caKey = keyFromSeed(derive('seed-one', 'ca'));
const ca = issue({ commonName: 'twincigo test CA', ca: true, key: caKey });
const leaf = (seed = 'seed-one', issuerKey = caKey) =>
  issue({ commonName: '10.0.0.2', ips: ['10.0.0.2'], dns: ['10.0.0.2', 'ash-1'], key: keyFromSeed(derive(seed, 'node:ash-1')), issuer: { commonName: 'twincigo test CA', key: issuerKey } });

describe('pgBackRest TLS certificates', () => {
  it('OpenSSL verifies a node certificate against the CA; its names are the node’s address (CN, IP and DNS SAN)', () => {
    writeFileSync(join(tmp.dir, 'ca.crt'), ca.cert);
    writeFileSync(join(tmp.dir, 'node.crt'), leaf().cert);
    const r = spawnSync('openssl', ['verify', '-CAfile', join(tmp.dir, 'ca.crt'), join(tmp.dir, 'node.crt')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('node.crt: OK');
    const x = new X509Certificate(leaf().cert);
    expect(x.subject).toBe('CN=10.0.0.2');
    expect(x.subjectAltName).toBe('DNS:10.0.0.2, DNS:ash-1, IP Address:10.0.0.2');
    expect(x.checkIP('10.0.0.2')).toBe('10.0.0.2');
    expect(x.ca).toBe(false);
    expect(new X509Certificate(ca.cert).ca).toBe(true);
    // the key is the certificate's: it signs what the certificate's public key verifies
    expect(x.checkPrivateKey(keyFromSeed(derive('seed-one', 'node:ash-1')))).toBe(true);
  });

  it('the same seed gives the same files (a re-render changes nothing); another seed, another CA that OpenSSL refuses', () => {
    expect(leaf()).toEqual(leaf());
    expect(issue({ commonName: 'twincigo test CA', ca: true, key: caKey }).cert).toBe(ca.cert);
    const otherCa = keyFromSeed(derive('seed-two', 'ca'));
    writeFileSync(join(tmp.dir, 'foreign.crt'), leaf('seed-one', otherCa).cert);
    const r = spawnSync('openssl', ['verify', '-CAfile', join(tmp.dir, 'ca.crt'), join(tmp.dir, 'foreign.crt')], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/signature failure|unable to get local issuer|certificate signature/i);
  });
});
