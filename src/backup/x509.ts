import { createHash, createPrivateKey, createPublicKey, hkdfSync, sign, type KeyObject } from 'node:crypto';

/**
 * Deterministic Ed25519 X.509 certificates (DER written here: node:crypto parses certificates but
 * does not make them). The same seed gives the same CA, keys and certificates on every render —
 * so they are configuration like any other rendered file, and a re-render changes nothing.
 */

// --- DER ---
const len = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};
const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...parts: Buffer[]) => tlv(0x30, ...parts);
const set = (...parts: Buffer[]) => tlv(0x31, ...parts);
const explicit = (n: number, ...parts: Buffer[]) => tlv(0xa0 + n, ...parts);
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const generalizedTime = (d: Date) => tlv(0x18, Buffer.from(`${d.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`, 'ascii'));
function integer(b: Buffer): Buffer {
  let v = b;
  while (v.length > 1 && v[0] === 0 && v[1]! < 0x80) v = v.subarray(1);
  return tlv(0x02, v[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

const ED25519 = seq(oid('1.3.101.112'));
const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), utf8(cn))));
const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/** A key made from a seed: Ed25519's private key is 32 bytes; PKCS#8 wraps it with a fixed prefix. */
export function keyFromSeed(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  return createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
}

/** 32 bytes for one purpose, derived from the environment's secret (HKDF-SHA256). */
export const derive = (secret: string, purpose: string): Buffer => Buffer.from(hkdfSync('sha256', secret, 'twincigo-pgbackrest-tls', purpose, 32));

export interface Issued {
  cert: string;
  key: string;
}

export interface CertRequest {
  commonName: string;
  /** IP addresses and DNS names the certificate is for (subjectAltName). */
  ips?: string[];
  dns?: string[];
  ca?: boolean;
  key: KeyObject;
  issuer?: { commonName: string; key: KeyObject };
}

const spki = (key: KeyObject) => createPublicKey(key).export({ format: 'der', type: 'spki' });
const keyId = (key: KeyObject) => createHash('sha1').update(spki(key).subarray(12)).digest();
const ipBytes = (ip: string) => Buffer.from(ip.split('.').map(Number));

/** One certificate, valid from 2020 to 2120 (renewal is rotating the seed), serial from the subject's key. */
export function issue(req: CertRequest): Issued {
  const issuer = req.issuer ?? { commonName: req.commonName, key: req.key };
  const san = [...(req.dns ?? []).map((d) => tlv(0x82, Buffer.from(d, 'ascii'))), ...(req.ips ?? []).map((ip) => tlv(0x87, ipBytes(ip)))];
  const extensions = [
    extension('2.5.29.19', true, req.ca ? seq(bool(true)) : seq()),
    // CA: keyCertSign + cRLSign; leaf: digitalSignature
    extension('2.5.29.15', true, req.ca ? bits(Buffer.from([0x06]), 1) : bits(Buffer.from([0x80]), 7)),
    extension('2.5.29.14', false, octets(keyId(req.key))),
    extension('2.5.29.35', false, seq(tlv(0x80, keyId(issuer.key)))),
    ...(req.ca ? [] : [extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2')))]),
    ...(san.length ? [extension('2.5.29.17', false, seq(...san))] : []),
  ];
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(Buffer.concat([Buffer.from([0x01]), keyId(req.key)])),
    ED25519,
    name(issuer.commonName),
    seq(generalizedTime(new Date('2020-01-01T00:00:00Z')), generalizedTime(new Date('2120-01-01T00:00:00Z'))),
    name(req.commonName),
    Buffer.from(spki(req.key)),
    explicit(3, seq(...extensions)),
  );
  const der = seq(tbs, ED25519, bits(sign(null, tbs, issuer.key)));
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
  return { cert: pem, key: req.key.export({ format: 'pem', type: 'pkcs8' }).toString() };
}
