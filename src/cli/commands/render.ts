import { UsageError } from '../../errors.js';
import { defineCommand } from '../define.js';
import { session } from '../action.js';

export const renderCommand = defineCommand({
  name: 'render',
  description: 'write (or print) exactly what would be uploaded to each node: compose files, configs, .env',
  options: [
    { flags: '-o, --out <dir>', description: 'write the files under <dir>/<node>/ (secret-bearing files 0600); default: print them, secrets redacted' },
    { flags: '--etcd-state <state>', description: 'etcd initial cluster state: new (creating the cluster) or existing (joining one)', default: 'new' },
  ],
  examples: ['twincigo render --env dev | less', 'twincigo render --env dev --out .twincigo/render   # gitignored; secret files 0600'],
  exits: ['1'],
  run: async (g, _args, opts: { out?: string; etcdState: string }) => {
    if (opts.etcdState !== 'new' && opts.etcdState !== 'existing') throw new UsageError('--etcd-state must be new or existing');
    const { render } = await import('../../operations/render.js');
    return render(await session(g), { out: opts.out, etcdState: opts.etcdState });
  },
});
