import { defineCommand } from '../define.js';

export const completionCommand = defineCommand({
  name: 'completion',
  description: 'print a shell completion script: bash, zsh or fish',
  args: [['<shell>', 'bash | zsh | fish']],
  examples: ['twincigo completion bash > /etc/bash_completion.d/twincigo', 'twincigo completion zsh > "${fpath[1]}/_twincigo"', 'twincigo completion fish > ~/.config/fish/completions/twincigo.fish'],
  run: async (_g, [shell], _opts, cmd) => {
    const { completionScript } = await import('../completion.js');
    process.stdout.write(completionScript(cmd.parent!, shell));
  },
});

