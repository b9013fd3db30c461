import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inNode } from '../lab/run.ts';
import { NODES, containerName } from '../lab/config.ts';

/** `twincigo lock` against the lab: held by one operator, refused to another with who and since when. */
const as = (who: string, ...args: string[]) => runCli([...args, '--env', 'lab'], { env: { TWINCIGO_OPERATOR: who } });
afterAll(() => as('cleanup', 'lock', 'release'));

describe('twincigo lock', () => {
  it('acquire → a second operator is refused with who holds it and since when (exit 1); --lock-wait waits, then gives up', async () => {
    expect((await as('alice@laptop', 'lock', 'status')).stdout).toBe('lab is not locked\n');
    const a = await as('alice@laptop', 'lock', 'acquire', '-m', 'db maintenance');
    expect(a.code).toBe(0);
    const b = await as('bob@ci', 'lock', 'acquire');
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/error: environment lab is locked by alice@laptop \(lock acquire: db maintenance\) since 20\d\d-\d\d-\d\dT/);
    const started = Date.now();
    const waited = await as('bob@ci', 'lock', 'acquire', '--lock-wait', '2');
    expect(waited.code).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(waited.stderr).toMatch(/waiting for the lock held by alice@laptop/);
    const status = JSON.parse((await as('carol', 'lock', 'status', '--json')).stdout);
    expect(status).toMatchObject({ environment: 'lab', locked: true, holder: { by: 'alice@laptop', message: 'db maintenance' } });
  });

  it('release frees it for the next operator; every node\'s audit log records both events', async () => {
    const r = await as('alice@laptop', 'lock', 'release');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^lab unlocked \(it was held by alice@laptop/);
    expect((await as('bob@ci', 'lock', 'acquire')).code).toBe(0);
    expect((await as('bob@ci', 'lock', 'release')).code).toBe(0);
    for (const n of NODES) {
      const log = (await inNode(containerName(n.name), ['cat', '/opt/twincigo-crm/audit.log'])).stdout;
      expect(log).toMatch(/user=alice@laptop env=lab command="lock acquire" result=ok "db maintenance"/);
      expect(log).toMatch(/user=bob@ci env=lab command="lock release" result=ok/);
    }
  });
});
