import { stringify } from 'yaml';
import type { EnvironmentConfig } from '../config/model.js';
import { ALL_SUPABASE, type SupabaseService } from '../config/supabase-services.js';

/**
 * Kong's declarative config (kong.yml), rendered from the environment's Supabase services: the
 * routes of every service that runs; a dropped service's routes sent to the backend when the
 * inventory says so (supabase.toBackend), else answered 404 by Kong itself — never falling through
 * to Studio's catch-all. $SUPABASE_ANON_KEY, $SUPABASE_SERVICE_KEY and $DASHBOARD_* stay as they are:
 * kong's entrypoint substitutes them from its environment when it starts.
 */
type Plugin = Record<string, unknown>;
interface Route {
  name: string;
  url: string;
  paths: string[];
  protocol?: 'ws' | 'http';
  plugins: Plugin[];
}

const cors: Plugin = { name: 'cors' };
const keyAuth = (hide: boolean): Plugin => ({ name: 'key-auth', config: { hide_credentials: hide } });
const acl = (...allow: string[]): Plugin => ({ name: 'acl', config: { hide_groups_header: true, allow } });
const forbidden: Plugin = { name: 'request-termination', config: { status_code: 403, message: 'Access is forbidden.' } };
const api = (hide = false) => [cors, keyAuth(hide), acl('admin', 'anon')];
const open = (name: string, path: string, upstream: string): Route => ({ name, url: `http://auth:9999${upstream}`, paths: [path], plugins: [cors] });
/** realtime by the name whose first label is its tenant (compose gives the service that alias). */
const REALTIME = 'http://realtime-dev.supabase-realtime:4000';

/** Every route, by the service that serves it. Longer paths win in Kong whatever the order. */
export const ROUTES: Record<SupabaseService, Route[]> = {
  auth: [
    open('auth-v1-open', '/auth/v1/verify', '/verify'),
    open('auth-v1-open-callback', '/auth/v1/callback', '/callback'),
    open('auth-v1-open-authorize', '/auth/v1/authorize', '/authorize'),
    open('auth-v1-open-jwks', '/auth/v1/.well-known/jwks.json', '/.well-known/jwks.json'),
    open('auth-v1-open-sso-acs', '/sso/saml/acs', '/sso/saml/acs'),
    open('auth-v1-open-sso-metadata', '/sso/saml/metadata', '/sso/saml/metadata'),
    open('well-known-oauth', '/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server'),
    { name: 'auth-v1', url: 'http://auth:9999/', paths: ['/auth/v1/'], plugins: api() },
  ],
  rest: [
    { name: 'rest-v1', url: 'http://rest:3000/', paths: ['/rest/v1/'], plugins: api(true) },
    {
      name: 'graphql-v1',
      url: 'http://rest:3000/rpc/graphql',
      paths: ['/graphql/v1'],
      plugins: [cors, keyAuth(true), { name: 'request-transformer', config: { add: { headers: ['Content-Profile:graphql_public'] } } }, acl('admin', 'anon')],
    },
  ],
  realtime: [
    { name: 'realtime-v1-ws', url: `${REALTIME}/socket`, protocol: 'ws', paths: ['/realtime/v1/'], plugins: api() },
    // realtime's tenant administration and API description are not for the public
    { name: 'realtime-v1-rest-openapi', url: `${REALTIME}/api/openapi`, protocol: 'http', paths: ['/realtime/v1/api/openapi'], plugins: [forbidden] },
    { name: 'realtime-v1-rest-tenants', url: `${REALTIME}/api/tenants`, protocol: 'http', paths: ['/realtime/v1/api/tenants'], plugins: [forbidden] },
    { name: 'realtime-v1-rest', url: `${REALTIME}/api`, protocol: 'http', paths: ['/realtime/v1/api'], plugins: api() },
  ],
  storage: [{ name: 'storage-v1', url: 'http://storage:5000/', paths: ['/storage/v1/'], plugins: [cors] }],
  meta: [{ name: 'meta', url: 'http://meta:8080/', paths: ['/pg/'], plugins: [keyAuth(false), acl('admin')] }],
  studio: [{ name: 'dashboard', url: 'http://studio:3000/', paths: ['/'], plugins: [cors, { name: 'basic-auth', config: { hide_credentials: true } }] }],
  kong: [],
  imgproxy: [], // reached by storage only
};

const HEADER = {
  _format_version: '2.1',
  _transform: true,
  consumers: [
    { username: 'DASHBOARD' },
    { username: 'anon', keyauth_credentials: [{ key: '$SUPABASE_ANON_KEY' }] },
    { username: 'service_role', keyauth_credentials: [{ key: '$SUPABASE_SERVICE_KEY' }] },
  ],
  acls: [{ consumer: 'anon', group: 'anon' }, { consumer: 'service_role', group: 'admin' }],
  basicauth_credentials: [{ consumer: 'DASHBOARD', username: '$DASHBOARD_USERNAME', password: '$DASHBOARD_PASSWORD' }],
};

/**
 * An upstream that does not answer is given half a second, then Kong tries another of its addresses:
 * under Swarm a service name resolves to every task (dnsrr), and a lost node's tasks stay in DNS
 * until Swarm notices — Kong's own default (60 s) would hold a request that long.
 */
export const UPSTREAM = { connect_timeout: 500, retries: 3 } as const;

const toKong = (r: Route) => ({
  name: r.name,
  url: r.url,
  ...(r.protocol ? { protocol: r.protocol } : {}),
  ...UPSTREAM,
  routes: [{ name: r.name, strip_path: true, paths: r.paths }],
  plugins: r.plugins,
});

/** The kong.yml of an environment; `backend` is the backend's address (host:port) when a dropped service is sent there. */
export function kongConfig(env: Pick<EnvironmentConfig, 'supabase'>, backend?: string): string {
  const sel = env.supabase ?? ALL_SUPABASE;
  const services: Array<ReturnType<typeof toKong>> = [];
  for (const [svc, routes] of Object.entries(ROUTES) as Array<[SupabaseService, Route[]]>) {
    if (routes.length === 0) continue;
    if (sel.services.includes(svc)) {
      services.push(...routes.map(toKong));
    } else if ((sel.toBackend as string[]).includes(svc) && backend) {
      // the backend serves the same paths: nothing stripped, the same keys required
      for (const r of routes.filter((x) => !x.plugins.includes(forbidden))) {
        services.push({ ...toKong({ ...r, url: `http://${backend}/`, protocol: 'http' }), routes: [{ name: `${r.name}-backend`, strip_path: false, paths: r.paths }], name: `${r.name}-backend` });
      }
    } else {
      const message = `The ${svc} API is not part of this deployment.`;
      services.push(toKong({ name: `${svc}-removed`, url: 'http://127.0.0.1:1/', paths: routes.flatMap((r) => r.paths), plugins: [{ name: 'request-termination', config: { status_code: 404, message } }] }));
    }
  }
  const head = `# Rendered by twincigo for the Supabase services this environment runs (${sel.services.join(', ') || 'none'}); do not edit on the node.\n`;
  return head + stringify({ ...HEADER, services });
}
