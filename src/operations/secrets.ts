import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { EXIT, ConfigError } from '../errors.js';
import { readEnvFile } from '../config/env-file.js';
import { redactor } from '../output/redact.js';
import { envProblems } from '../secrets/check.js';
import { initSecrets } from '../secrets/init.js';
import type { Session } from '../session/session.js';

/** Keys whose rotation loses data, with what is lost: the operator types the key's name. */
const DESTRUCTIVE_ROTATION: Record<string, string> = {
  PGSODIUM_ROOT_KEY:
    'data encrypted with the old key (Supabase Vault secrets, pgsodium-encrypted columns) becomes unreadable for good — decrypt or export it first',
};

const rel = (p: string) => relative(process.cwd(), p) || p;

/** `twincigo secrets init`: generate every missing secret of the environment (0600), rotate on request. */
export async function secretsInit(ctx: Session, rotate: string[]): Promise<number> {
  const env = ctx.config.env;
  const template = join(ctx.config.dir, 'env', `.env.${env.profile}.example`);
  // a new pgsodium root key cannot decrypt what the old one encrypted (vault secrets, pgsodium columns)
  const destructive = rotate.filter((k) => DESTRUCTIVE_ROTATION[k]);
  for (const k of destructive) {
    ctx.ui.warn(`rotating ${k}: ${DESTRUCTIVE_ROTATION[k]}`);
    await ctx.ui.typeToConfirm(`Rotate ${k} anyway?`, k);
  }
  if (rotate.length > destructive.length && !(await ctx.ui.confirm(`rotate ${rotate.join(', ')} in ${rel(env.envFile)}? Services using them must be redeployed`))) {
    ctx.ui.info('nothing changed');
    return EXIT.usage;
  }
  const res = initSecrets(env, ctx.values, rotate, existsSync(template) ? template : undefined);
  redactor.add(res.newValues);
  ctx.ui.json({ environment: env.name, file: res.file, generated: res.generated, kept: res.kept });
  ctx.ui.print(
    res.generated.length === 0
      ? `${rel(res.file)}: every secret already has a value (${res.kept.length} kept); nothing changed`
      : `${rel(res.file)} (0600): generated ${res.generated.join(', ')}${res.kept.length > 0 ? `; kept ${res.kept.length} existing` : ''}`,
  );
  const settings = envProblems(env, readEnvFile(env.envFile)).filter((p) => p.kind === 'missing').map((p) => p.key);
  if (settings.length > 0) ctx.ui.info(`still to fill in by hand: ${settings.join(', ')} (then: twincigo env check --env ${env.name})`);
  return EXIT.ok;
}

/** `twincigo env check`: missing, placeholder, weak and invalid values; exit 0 or 2. */
export async function envCheck(ctx: Session): Promise<number> {
  const env = ctx.config.env;
  const values = readEnvFile(env.envFile);
  const problems = values.exists
    ? envProblems(env, values, ctx.config.nodes)
    : [{ key: '', kind: 'missing' as const, message: `env file not found — create it with: twincigo secrets init --env ${env.name}` }];
  ctx.ui.json({ environment: env.name, file: env.envFile, ok: problems.length === 0, problems });
  if (problems.length > 0) throw new ConfigError(rel(env.envFile), problems.map((p) => `${p.kind}: ${p.message}`));
  ctx.ui.print(`ok: ${rel(env.envFile)} has every value environment ${env.name} needs`);
  return EXIT.ok;
}
