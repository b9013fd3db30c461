/**
 * Which Supabase services an environment runs — the design's removal in phases (analytics is never
 * run; then PostgREST, auth, storage, the admin UI are replaced by the FastAPI backend or MinIO/S3).
 * `supabase.services` in the inventory chooses them (default: all); `supabase.toBackend` sends the
 * routes of a dropped one to the backend instead of answering 404.
 */
export const SUPABASE_SERVICES = ['kong', 'auth', 'rest', 'realtime', 'storage', 'imgproxy', 'meta', 'studio'] as const;
export type SupabaseService = (typeof SUPABASE_SERVICES)[number];

/** Dropped services whose API routes may go to the backend (it then serves the same paths). */
export const BACKEND_REPLACEABLE = ['rest', 'auth', 'storage'] as const;

export interface SupabaseSelection {
  services: SupabaseService[];
  toBackend: Array<(typeof BACKEND_REPLACEABLE)[number]>;
}

export const ALL_SUPABASE: SupabaseSelection = { services: [...SUPABASE_SERVICES], toBackend: [] };

/** What one service needs beside it: Studio reads the database through pg-meta; imgproxy serves storage's images. */
const NEEDS: Partial<Record<SupabaseService, SupabaseService>> = { studio: 'meta', imgproxy: 'storage' };

/** The problems of a selection (paths as the inventory spells them), all at once. */
export function selectionProblems(at: string, sel: SupabaseSelection, hasBackend: boolean): string[] {
  const problems: string[] = [];
  const on = new Set(sel.services);
  if (on.size > 0 && !on.has('kong')) problems.push(`${at}.services: kong is the gateway every other Supabase service is reached through — keep it while any runs`);
  for (const [s, needs] of Object.entries(NEEDS) as Array<[SupabaseService, SupabaseService]>) {
    if (on.has(s) && !on.has(needs)) problems.push(`${at}.services: ${s} needs ${needs} (add ${needs}, or drop ${s})`);
  }
  for (const s of sel.toBackend) {
    if (on.has(s)) problems.push(`${at}.toBackend: ${s} still runs — drop it from ${at}.services to send its routes to the backend`);
  }
  if (sel.toBackend.length > 0 && !hasBackend) problems.push(`${at}.toBackend: no node has role "backend" to send ${sel.toBackend.join(', ')} to`);
  if (sel.toBackend.length > 0 && !on.has('kong')) problems.push(`${at}.toBackend: the routes go through kong — keep kong in ${at}.services`);
  return problems;
}
