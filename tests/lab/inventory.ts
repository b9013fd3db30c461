/**
 * What makes `npx twincigo <command> --env lab` work from the repo root: a gitignored
 * twincigo.lab.yml (environment "lab", the shape of dev) and env/.env.lab with generated secrets
 * and the lab's image references. Secrets are kept across lab:up runs; image references updated.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { LAB_ENV_FILE, LAB_INVENTORY, LAB_KEY, LAB_KNOWN_HOSTS, NODES, REPO } from './config.ts';

export function writeInventory(): void {
  const rel = (p: string) => p.slice(REPO.length);
  const doc = {
    version: 1,
    environments: {
      lab: {
        profile: 'dev',
        envFile: rel(LAB_ENV_FILE),
        initialLeader: NODES[0]!.name,
        rttMs: 1,
        ssh: { user: 'root', identity: rel(LAB_KEY), knownHosts: rel(LAB_KNOWN_HOSTS), config: false, connectTimeout: 5 },
        nodes: NODES.map((n) => ({ name: n.name, host: n.ip, roles: n.roles })),
      },
    },
  };
  writeFileSync(LAB_INVENTORY, `# Written by \`npm run lab:up\` (tests/lab); removed by lab:down. Do not edit.\n${stringify(doc)}`);
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
/** A Supabase API key: an HS256 JWT signed with JWT_SECRET (used as a raw string). */
export function supabaseKey(secret: string, role: 'anon' | 'service_role'): string {
  const iat = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ role, iss: 'supabase', iat, exp: iat + 10 * 365 * 24 * 3600 }));
  return `${head}.${body}.${b64url(createHmac('sha256', secret).update(`${head}.${body}`).digest())}`;
}

function parseEnv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Fills every key of env/.env.dev.example: kept values stay, empty ones get generated secrets. */
export function writeEnvFile(images: Record<string, string>): void {
  const example = parseEnv(readFileSync(`${REPO}env/.env.dev.example`, 'utf8'));
  const kept = existsSync(LAB_ENV_FILE) ? parseEnv(readFileSync(LAB_ENV_FILE, 'utf8')) : new Map<string, string>();
  const values = new Map<string, string>();
  for (const [k, v] of example) values.set(k, kept.get(k) || v || randomBytes(18).toString('hex'));
  values.set('PGSODIUM_ROOT_KEY', kept.get('PGSODIUM_ROOT_KEY') || randomBytes(32).toString('hex'));
  const jwt = values.get('JWT_SECRET')!;
  if (!kept.get('ANON_KEY')) values.set('ANON_KEY', supabaseKey(jwt, 'anon'));
  if (!kept.get('SERVICE_ROLE_KEY')) values.set('SERVICE_ROLE_KEY', supabaseKey(jwt, 'service_role'));
  for (const [k, v] of Object.entries(images)) values.set(k, v);
  const body = [...values].map(([k, v]) => `${k}=${v}`).join('\n');
  writeFileSync(LAB_ENV_FILE, `# Written by \`npm run lab:up\`: lab secrets (generated) and lab image references.\n${body}\n`, { mode: 0o600 });
}
