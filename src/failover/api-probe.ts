import { Agent, request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { summarizeProbe, type ProbeEvent } from '../cluster/write-probe.js';
import { usesSwarm } from '../swarm/services.js';

/**
 * The API as a client on the internet sees it during a drill: an HTTPS request every 100 ms to one
 * edge node (by its address, with the public host as SNI and Host), alternating the backend
 * (/api/health, Caddy → backend) and Supabase (/auth/v1/health, Caddy → Kong → auth). It measures
 * availability — the certificate is not what is tested here (Caddy's internal CA in the lab) — on
 * kept-alive connections, as a browser's. The outage is, per path, the longest time between two
 * answered requests (as for writes), and the API's the worse of the two.
 */
export interface ApiTarget {
  edge: NodeConfig;
  publicHost: string;
  apikey: string;
}

export const API_PATHS = ['/api/health', '/auth/v1/health'] as const;

/** The edge to probe through: a Swarm edge (role supabase) outside the fault; none under Compose. */
export function apiTarget(env: EnvironmentConfig, values: Record<string, string>, fault: NodeConfig | undefined): ApiTarget | null {
  if (!usesSwarm(env)) return null;
  const edge = env.nodes.find((n) => n.roles.includes('supabase') && n !== fault);
  return edge ? { edge, publicHost: values.PUBLIC_HOST || 'app.twincigo.com', apikey: values.ANON_KEY ?? '' } : null;
}

export class ApiProbe {
  readonly events: ProbeEvent[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: false });

  constructor(readonly target: ApiTarget, private readonly intervalMs = 100, private readonly timeoutMs = 2000) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      for (let i = 0; this.running; i++) {
        const started = Date.now();
        const path = API_PATHS[i % API_PATHS.length]!;
        const ok = await this.once(path);
        // the path in place of the server: each path's outage is measured on its own
        this.events.push({ kind: 'w', ok, seq: i, addr: path, atMs: Date.now() });
        await sleep(Math.max(0, this.intervalMs - (Date.now() - started)));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.agent.destroy();
  }

  acknowledged(): number {
    return this.events.filter((e) => e.ok).length;
  }

  /** Requests and failures in all; the outage the worse path's; each path's outage. */
  summary(): { attempts: number; failed: number; outageSeconds: number; paths: Record<string, number> } {
    const all = summarizeProbe(this.events, 'w');
    const paths = Object.fromEntries(API_PATHS.map((p) => [p, summarizeProbe(this.events.filter((e) => e.addr === p), 'w').outageSeconds]));
    return { attempts: all.attempts, failed: all.failed, outageSeconds: Math.max(...Object.values(paths)), paths };
  }

  private once(path: string): Promise<boolean> {
    const t = this.target;
    return new Promise((resolve) => {
      const req = request({ host: t.edge.host, port: 443, path, servername: t.publicHost, agent: this.agent, timeout: this.timeoutMs, headers: { Host: t.publicHost, apikey: t.apikey } }, (res) => {
        res.resume();
        res.on('end', () => resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
        res.on('error', () => resolve(false));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
      req.end();
    });
  }
}
