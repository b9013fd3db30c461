import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readInventory, resolveEnvironment } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { ALL_SUPABASE, SUPABASE_SERVICES, type SupabaseSelection } from '../../src/config/supabase-services.js';
import { envProblems } from '../../src/secrets/check.js';
import { COMPOSE_DIR, composeFilesFor, servicesFor } from '../../src/stack/compose-files.js';
import { kongConfig } from '../../src/stack/kong-config.js';
import { patroniConfig } from '../../src/stack/patroni-config.js';
import { validInventory, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

/** Supabase as the environment chooses it: the services that run, Kong's routes, auth's mail, the image's settings. */
const kong = (sel: SupabaseSelection, backend?: string) => parse(kongConfig({ supabase: sel }, backend)) as { services: Array<{ name: string; url: string; routes: Array<{ paths: string[]; strip_path: boolean }>; plugins: Array<{ name: string; config?: any }> }> };
const byPath = (doc: ReturnType<typeof kong>, path: string) => doc.services.find((s) => s.routes.some((r) => r.paths.includes(path)));
const without = (...drop: string[]): SupabaseSelection => ({ services: SUPABASE_SERVICES.filter((s) => !drop.includes(s)), toBackend: [] });

function resolve(supabase: unknown): ReturnType<typeof resolveEnvironment> {
  const tmp = tempDir();
  try {
    const doc = validInventory();
    doc.environments.dev.supabase = supabase;
    return resolveEnvironment(readInventory(writeInventory(tmp.dir, doc)), 'dev');
  } finally {
    tmp.cleanup();
  }
}

describe("Kong's routes", () => {
  it('all services: realtime by its tenant name, its tenant API and openapi closed (403), jwks / oauth metadata / SSO open', () => {
    const doc = kong(ALL_SUPABASE);
    expect(byPath(doc, '/realtime/v1/')!.url).toBe('http://realtime-dev.supabase-realtime:4000/socket');
    for (const p of ['/realtime/v1/api/tenants', '/realtime/v1/api/openapi']) expect(byPath(doc, p)!.plugins).toEqual([{ name: 'request-termination', config: { status_code: 403, message: 'Access is forbidden.' } }]);
    expect(byPath(doc, '/auth/v1/.well-known/jwks.json')!.url).toBe('http://auth:9999/.well-known/jwks.json');
    expect(byPath(doc, '/.well-known/oauth-authorization-server')!.url).toBe('http://auth:9999/.well-known/oauth-authorization-server');
    expect(byPath(doc, '/sso/saml/acs')!.url).toBe('http://auth:9999/sso/saml/acs');
    // pg-meta only with the service key (group admin); the keys stay placeholders kong fills at start
    expect(byPath(doc, '/pg/')!.plugins).toContainEqual({ name: 'acl', config: { hide_groups_header: true, allow: ['admin'] } });
    expect(kongConfig({ supabase: ALL_SUPABASE })).toContain('key: $SUPABASE_SERVICE_KEY');
  });

  it('a dropped service answers 404 from Kong itself (never Studio’s catch-all); routed to the backend when the inventory says so', () => {
    const dropped = kong(without('rest'));
    for (const p of ['/rest/v1/', '/graphql/v1']) expect(byPath(dropped, p)!.plugins).toEqual([{ name: 'request-termination', config: { status_code: 404, message: 'The rest API is not part of this deployment.' } }]);
    expect(dropped.services.some((s) => s.url.startsWith('http://rest:'))).toBe(false);
    const routed = kong({ ...without('rest'), toBackend: ['rest'] }, '10.0.0.2:8080');
    const rest = byPath(routed, '/rest/v1/')!;
    expect(rest.url).toBe('http://10.0.0.2:8080/');
    expect(rest.routes[0]!.strip_path).toBe(false); // the backend serves the same paths
    expect(rest.plugins.map((p) => p.name)).toContain('key-auth');
    const noStudio = kong(without('studio', 'meta'));
    expect(byPath(noStudio, '/')!.plugins[0]).toMatchObject({ name: 'request-termination', config: { status_code: 404 } });
  });
});

describe('supabase.services in the inventory', () => {
  it('default: every service; a selection is kept; impossible ones refused with what to change, all at once', () => {
    expect(resolve(undefined).supabase).toEqual(ALL_SUPABASE);
    expect(resolve({ services: ['kong', 'auth', 'storage', 'imgproxy', 'meta', 'studio', 'realtime'], toBackend: ['rest'] }).supabase.toBackend).toEqual(['rest']);
    let problems: string[] = [];
    try {
      resolve({ services: ['auth', 'studio', 'imgproxy', 'rest'], toBackend: ['rest'] });
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect(problems).toEqual([
      'environments.dev.supabase.services: kong is the gateway every other Supabase service is reached through — keep it while any runs',
      'environments.dev.supabase.services: studio needs meta (add meta, or drop studio)',
      'environments.dev.supabase.services: imgproxy needs storage (add storage, or drop imgproxy)',
      'environments.dev.supabase.toBackend: rest still runs — drop it from environments.dev.supabase.services to send its routes to the backend',
      'environments.dev.supabase.toBackend: the routes go through kong — keep kong in environments.dev.supabase.services',
    ]);
  });

  it("a dropped service leaves the node's compose files (with the depends_on naming it); nothing dropped: the shipped file as it is", () => {
    const shipped = readFileSync(`${COMPOSE_DIR}supabase.yml`, 'utf8');
    expect(composeFilesFor('supabase', { profile: 'dev', supabase: ALL_SUPABASE })[0]!.content).toBe(shipped);
    const sel = without('rest', 'imgproxy');
    const [file] = composeFilesFor('supabase', { profile: 'dev', supabase: sel });
    const doc = parse(file!.content) as { services: Record<string, { depends_on?: Record<string, unknown> }> };
    expect(Object.keys(doc.services)).toEqual(['kong', 'auth', 'realtime', 'storage', 'meta', 'studio']);
    expect(doc.services.storage!.depends_on).toBeUndefined();
    expect(servicesFor(['supabase'], { profile: 'prod', supabase: sel })).toEqual(['kong', 'auth', 'realtime', 'storage', 'meta', 'studio', 'caddy']);
  });
});

describe("auth's mail", () => {
  const env = (supabase: SupabaseSelection) => ({ ...resolve(undefined), supabase });
  const mail = (v: Record<string, string>, sel = ALL_SUPABASE) =>
    envProblems(env(sel), { file: '/x', exists: true, problems: [], values: v }).filter((p) => /SMTP/.test(p.key)).map((p) => p.message);

  it('sign-ups that must be confirmed with no SMTP are refused; autoconfirm, SMTP set, no email sign-up or no auth are fine', () => {
    expect(mail({})).toEqual([expect.stringMatching(/^email sign-ups must be confirmed \(ENABLE_EMAIL_AUTOCONFIRM is off\) but auth has no SMTP to send the mail: set SMTP_HOST and SMTP_ADMIN_EMAIL/)]);
    expect(mail({ ENABLE_EMAIL_AUTOCONFIRM: 'true' })).toEqual([]);
    expect(mail({ SMTP_HOST: 'smtp.example.com', SMTP_ADMIN_EMAIL: 'auth@example.com' })).toEqual([]);
    expect(mail({ ENABLE_EMAIL_SIGNUP: 'false' })).toEqual([]);
    expect(mail({}, without('auth'))).toEqual([]);
  });
});

describe("the image's own settings carried into Patroni's", () => {
  it('supautils in every session and the root key script for pgsodium and vault on the real image; not on an image without them', () => {
    const e = resolve(undefined);
    const params = (settings: Record<string, string>) => (parse(patroniConfig(e, e.nodes[0]!, settings)) as any).bootstrap.dcs.postgresql.parameters;
    expect(params({})).toMatchObject({ session_preload_libraries: 'supautils', 'pgsodium.getkey_script': '/usr/local/bin/pgsodium-getkey', 'vault.getkey_script': '/usr/local/bin/pgsodium-getkey' });
    const lab = params({ POSTGRES_PRELOAD_LIBRARIES: 'pg_stat_statements,pg_cron' });
    expect(lab.session_preload_libraries).toBeUndefined();
    expect(lab['pgsodium.getkey_script']).toBeUndefined();
  });
});
