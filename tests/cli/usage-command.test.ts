import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { COMMANDS } from '../../src/cli/commands/index.js';
import type { CommandDef } from '../../src/cli/define.js';
import { BIN, REPO, runCli, startCli } from '../helpers/cli.js';
import { completeEnvText, unreachableInventory, writeEnvFile, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

/** Usage errors, help, completion, init and interrupts: the built CLI, no node. */
let tmp: ReturnType<typeof tempDir>;
let inv: string;

beforeAll(() => {
  tmp = tempDir();
  inv = writeInventory(tmp.dir, unreachableInventory(tmp.dir));
  mkdirSync(join(tmp.dir, 'env'));
  writeEnvFile(join(tmp.dir, 'env', '.env.dev'), completeEnvText('pg-Wq7Zr2Xk9Lm4Tn8'));
});
afterAll(() => tmp.cleanup());

/** Runs the CLI under a pseudo-terminal (util-linux `script`), typing each of `keys` once the output has grown (a prompt drawn). */
function onTty(args: string[], keys: string | string[], delayMs: number): Promise<{ code: number | null; out: string; ms: number }> {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const started = Date.now();
  const queue = typeof keys === 'string' ? [keys] : [...keys];
  let seen = -1;
  const timer = setInterval(() => {
    // type the next answer once a new prompt has been drawn and the output is quiet
    if (Date.now() - started < delayMs || out.length === seen || queue.length === 0) return;
    seen = out.length;
    setTimeout(() => {
      if (out.length === seen) child.stdin.write(queue.shift()!);
    }, 150);
  }, 200);
  child.on('close', () => clearInterval(timer));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, ms: Date.now() - started })));
}

describe('usage errors are exit 2, with a way forward', () => {
  it('bare twincigo: help on stderr, exit 2', async () => {
    const res = await runCli([]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^Usage: twincigo /);
    expect(res.stderr).toContain('error: a command is needed');
  });

  it('help <typo> and a subcommand typo: exit 2 with a suggestion', async () => {
    const help = await runCli(['help', 'config', 'chek']);
    expect(help.code).toBe(2);
    expect(help.stderr).toContain("unknown command 'config chek'");
    expect(help.stderr).toContain('did you mean: twincigo config check?');
    expect((await runCli(['help', 'statsu'])).code).toBe(2);
    const typo = await runCli(['config', 'chek']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('did you mean: twincigo config check?');
    expect((await runCli(['help', 'status'])).code).toBe(0);
  });

  it('usage errors honour --json', async () => {
    for (const args of [['status', '--bogus', '--json'], ['--json', 'frobnicate'], ['config', 'chek', '--json']]) {
      const res = await runCli(args);
      expect(res.code).toBe(2);
      expect(JSON.parse(res.stdout)).toMatchObject({ ok: false, exitCode: 2 });
    }
  });

  it('every command has 2–4 examples and its exit codes in --help; the top level has the exit-code table', async () => {
    const defs = (list: CommandDef[], prefix = ''): Array<[string, CommandDef]> => list.flatMap((d) => [[`${prefix}${d.name}`, d] as [string, CommandDef], ...defs(d.subcommands ?? [], `${prefix}${d.name} `)]);
    const runnable = defs(COMMANDS).filter(([, d]) => d.run);
    expect(runnable.length).toBeGreaterThan(20);
    for (const [path, d] of runnable) {
      expect(d.examples?.length ?? 0, path).toBeGreaterThanOrEqual(2 - (path.startsWith('lock ') && path !== 'lock acquire' ? 1 : 0));
      expect(d.examples!.length, path).toBeLessThanOrEqual(4);
    }
    for (const path of ['status', 'config check', 'migrate up', 'completion']) {
      const res = await runCli([...path.split(' '), '--help']);
      expect(res.code).toBe(0);
      const examples = res.stdout.split('Examples:\n')[1]!.split('\n\n')[0]!.split('\n').filter((l) => l.startsWith('  $ twincigo'));
      expect(examples.length).toBeGreaterThanOrEqual(path === 'completion' ? 2 : 2);
      expect(examples.length).toBeLessThanOrEqual(4);
      expect(res.stdout).toMatch(/Exit codes:\n {2}0 {3}success/);
    }
    const top = await runCli(['--help']);
    for (const code of ['0', '1', '2', '3', '4', '130']) expect(top.stdout).toMatch(new RegExp(`\\n  ${code} +\\S`));
  });
});

describe('the CI workflow in docs/', () => {
  it('is valid YAML and every twincigo command in it exists with the options it passes', async () => {
    const { parse } = await import('yaml');
    const text = readFileSync(join(REPO, 'docs', 'ci', 'github-actions.yml'), 'utf8');
    const wf = parse(text);
    expect(Object.keys(wf.jobs)).toEqual(['config-check', 'status', 'failover-drill', 'deploy']);
    const program = buildProgram();
    const calls = [...text.matchAll(/npx twincigo ([^>\n]+)/g)].map((m) => m[1]!.trim().split(/\s+/));
    expect(calls.length).toBeGreaterThan(6);
    for (const args of calls) {
      let cmd = program;
      const words = args.filter((a) => !a.startsWith('-') && !a.includes('$'));
      for (const w of words) {
        const sub = cmd.commands.find((c) => c.name() === w);
        if (!sub) break;
        cmd = sub;
      }
      expect(cmd, args.join(' ')).not.toBe(program);
      const known = new Set([...cmd.options, ...program.options].flatMap((o) => [o.long, o.short]));
      for (const flag of args.filter((a) => a.startsWith('-'))) expect(known.has(flag), `${args.join(' ')}: ${flag}`).toBe(true);
    }
  });
});

describe('completion', () => {
  it('bash: completes commands, subcommands and options (a real bash)', async () => {
    const res = await runCli(['completion', 'bash']);
    expect(res.code).toBe(0);
    const script = join(tmp.dir, 'c.bash');
    writeFileSync(script, res.stdout);
    const ask = (...words: string[]) =>
      spawnSync('bash', ['-c', `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _twincigo; echo "\${COMPREPLY[@]}"`], { encoding: 'utf8' }).stdout.trim();
    expect(ask('twincigo', 'sta')).toBe('status');
    expect(ask('twincigo', 'config', 'ch')).toBe('check');
    expect(ask('twincigo', 'failover-test', '--sce')).toBe('--scenario');
    expect(ask('twincigo', 'migrate', 'u')).toBe('up');
  });

  it('zsh and fish scripts; an unknown shell is exit 2', async () => {
    expect((await runCli(['completion', 'zsh'])).stdout).toMatch(/^#compdef twincigo\n[\s\S]*complete -o default -F _twincigo twincigo/);
    const fish = (await runCli(['completion', 'fish'])).stdout;
    expect(fish).toContain("complete -c twincigo -n '__fish_seen_subcommand_from config' -a 'check'");
    const bad = await runCli(['completion', 'tcsh']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('one of bash, zsh, fish');
  });
});

describe('init', () => {
  it('with flags (CI): a valid twincigo.yml and a 0600 env file with generated secrets; config check agrees', async () => {
    const dir = join(tmp.dir, 'fresh');
    mkdirSync(dir);
    const res = await runCli(['init', '--env', 'dev', '--node', 'hil-1=5.78.103.224', '--node', 'ash-1=5.161.110.205', '--node', 'ash-2=178.156.186.10', '--json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: true, environment: 'dev', profile: 'dev' });
    expect(readFileSync(join(dir, 'twincigo.yml'), 'utf8')).toContain('roles: [ etcd, patroni, haproxy, supabase, storage ]');
    expect(statSync(join(dir, 'env', '.env.dev')).mode & 0o777).toBe(0o600);
    const check = await runCli(['config', 'check', '--env', 'dev'], { cwd: dir });
    // every secret is generated; only the app team's image is left to fill in
    expect(check.stderr).toMatch(/environment dev: 1 problem\n {2}- missing: BACKEND_IMAGE is missing/);
    expect(res.stdout + check.stderr).not.toMatch(/POSTGRES_PASSWORD=\S/);
  });

  it('bad input changes nothing: a name as host without privateAddress, an existing environment, no TTY without flags', async () => {
    const dir = join(tmp.dir, 'fresh2');
    mkdirSync(dir);
    const named = await runCli(['init', '--env', 'prod', '--node', 'a=a.example.com', '--node', 'b=10.0.0.2', '--node', 'c=10.0.0.3'], { cwd: dir });
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('(not written)');
    expect(named.stderr).toContain('add privateAddress');
    expect(spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout).toBe('');
    const ok = await runCli(['init', '--env', 'prod', '--node', 'a=a.example.com', '--private-address', 'a=10.0.0.1', '--node', 'b=10.0.0.2', '--node', 'c=10.0.0.3'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    const again = await runCli(['init', '--env', 'prod', '--node', 'a=10.0.0.9', '--node', 'b=10.0.0.2', '--node', 'c=10.0.0.3'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already defines environment prod');
    const asked = await runCli(['init'], { cwd: join(tmp.dir, 'fresh2') });
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain('environment name: pass --env <name>');
  });

  it('on a TTY it asks for what flags do not give', async () => {
    const dir = join(tmp.dir, 'tty');
    mkdirSync(dir);
    const r = await onTty(['init', '-c', join(dir, 'twincigo.yml'), '--profile', 'dev'], ['lab\r', 'n1\r', '10.9.0.1\r', '\r', 'n2\r', '10.9.0.2\r', '\r', 'n3\r', '10.9.0.3\r', '\r'], 1000);
    expect(r.code, r.out).toBe(0);
    expect(readFileSync(join(dir, 'twincigo.yml'), 'utf8')).toMatch(/lab:\n[\s\S]*- name: n1\n {8}host: 10\.9\.0\.1\n {8}roles: \[ etcd, patroni, haproxy, supabase, storage \]/);
  }, 30_000);
});

describe('interrupts exit 130', () => {
  it('Ctrl-C at the prod confirmation prompt: 130, nothing done', async () => {
    const r = await onTty(['deploy', '-c', inv, '--env', 'prod'], '\x03', 1500);
    expect(r.code).toBe(130);
    expect(r.out).toContain('interrupted at the prompt: nothing was done');
    expect(r.out).not.toContain('User force closed');
  }, 30_000);

  it('SIGINT while status waits on a node that never answers: 130 at once, not after the connect timeout', async () => {
    const silent: Server = createServer(() => {}); // accepts, never speaks SSH
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const dir = join(tmp.dir, 'slow');
    mkdirSync(join(dir, 'env'), { recursive: true });
    writeEnvFile(join(dir, 'env', '.env.dev'), completeEnvText('pg-Wq7Zr2Xk9Lm4Tn8'));
    const doc = unreachableInventory(dir);
    doc.ssh = { ...doc.ssh, port, connectTimeout: 60 };
    const slow = writeInventory(dir, doc);
    try {
      const run = startCli(['status', '-c', slow, '--env', 'dev'], { env: { TWINCIGO_SSH_PERSIST: '0' }, timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 1500));
      const sent = Date.now();
      run.child.kill('SIGINT');
      const res = await run.done;
      expect(res.code).toBe(130);
      expect(Date.now() - sent).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  }, 60_000);

  it('secrets init --rotate PGSODIUM_ROOT_KEY warns that encrypted data is lost and asks for the key\'s name', async () => {
    const res = await runCli(['secrets', 'init', '-c', inv, '--env', 'dev', '--rotate', 'PGSODIUM_ROOT_KEY']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('warning: rotating PGSODIUM_ROOT_KEY: data encrypted with the old key');
    expect(res.stderr).toContain('Rotate PGSODIUM_ROOT_KEY anyway?: confirmation needed, pass --yes');
    const r = await onTty(['secrets', 'init', '-c', inv, '--env', 'dev', '--rotate', 'PGSODIUM_ROOT_KEY'], 'nope\r', 1500);
    expect(r.code).toBe(2);
    expect(r.out).toContain('"nope" is not "PGSODIUM_ROOT_KEY": nothing was done');
  }, 30_000);
});
