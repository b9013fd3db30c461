import { createHmac, timingSafeEqual } from 'node:crypto';

export type SupabaseRole = 'anon' | 'service_role';

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** A Supabase API key: an HS256 JWT signed with JWT_SECRET (used as a raw string, not base64). */
export function signSupabaseKey(secret: string, role: SupabaseRole, nowSec = Math.floor(Date.now() / 1000), years = 10): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ role, iss: 'supabase', iat: nowSec, exp: nowSec + years * 365 * 24 * 3600 }));
  const sig = b64url(createHmac('sha256', secret).update(`${head}.${body}`).digest());
  return `${head}.${body}.${sig}`;
}

/** Why a key is not a valid Supabase key for `role` signed with `secret`; undefined when it is. */
export function checkSupabaseKey(token: string, secret: string, role: SupabaseRole, nowSec = Math.floor(Date.now() / 1000)): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return 'is not a JWT (expected header.payload.signature)';
  const [head, body, sig] = parts as [string, string, string];
  let header: { alg?: string };
  let payload: { role?: string; exp?: number; iss?: string };
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return 'is not a JWT (header or payload is not base64url JSON)';
  }
  if (header.alg !== 'HS256') return `is signed with ${header.alg ?? 'no algorithm'}, not HS256`;
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'is not signed with JWT_SECRET (JWSInvalidSignature)';
  if (payload.role !== role) return `has role "${payload.role ?? ''}", expected "${role}"`;
  if (typeof payload.exp === 'number' && payload.exp <= nowSec) return 'has expired';
  return undefined;
}
