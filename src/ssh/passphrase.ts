/** Where an encrypted identity's passphrase comes from when there is no TTY to ask on. */
export const PASSPHRASE_ENV = 'TWINCIGO_SSH_PASSPHRASE';

/** Supplies the passphrase of an encrypted identity file (env var in CI, a prompt on a TTY). */
export type PassphraseProvider = (identityFile: string) => Promise<string>;
