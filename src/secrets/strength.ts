/**
 * Why a secret is too weak to use, or null. A secret must be at least 16 characters and not made
 * of common words: a short or guessable secret is both easy to guess and, when printed output is
 * redacted, a word that would be hidden wherever it appears.
 */
export const MIN_SECRET_LENGTH = 16;

/** Words found in leaked-password lists and in this stack's own names. */
const COMMON = [
  'password', 'passwd', 'passw', 'pass', 'pwd', 'secret', 'changeme', 'change', 'me', 'admin', 'administrator', 'root', 'user', 'login',
  'postgres', 'postgresql', 'patroni', 'supabase', 'twincigo', 'redis', 'grafana', 'minio', 'haproxy', 'etcd', 'replicator', 'replication',
  'rewind', 'vault', 'kong', 'studio', 'dashboard', 'backend', 'service', 'role', 'anon', 'jwt', 'token', 'key', 'hunter', 'letmein',
  'qwerty', 'qwertz', 'azerty', 'asdf', 'zxcv', 'welcome', 'default', 'test', 'testing', 'demo', 'dragon', 'monkey', 'iloveyou', 'love',
  'abc', 'master', 'trustno', 'shadow', 'sunshine', 'princess', 'football', 'baseball', 'superman', 'batman', 'starwars', 'hello',
  'guest', 'access', 'temp', 'example', 'sample', 'dev', 'prod', 'production', 'staging', 'lab', 'local', 'localhost', 'database', 'db',
  'mysql', 'oracle', 'ubuntu', 'debian', 'linux', 'docker', 'compose', 'super', 'my', 'the', 'new', 'old', 'strong', 'long', 'very', 'x',
];
const WORDS = new Set(COMMON);

/** Whether the letters of s (digits and symbols dropped) are nothing but common words. */
function onlyCommonWords(s: string): boolean {
  const letters = s.toLowerCase().replace(/[^a-z]/g, '');
  if (letters === '') return false;
  const ok: boolean[] = [true];
  for (let i = 1; i <= letters.length; i++) {
    ok[i] = false;
    for (let j = Math.max(0, i - 14); j < i && !ok[i]; j++) if (ok[j] && WORDS.has(letters.slice(j, i))) ok[i] = true;
  }
  return ok[letters.length]!;
}

export function secretWeakness(value: string, min = MIN_SECRET_LENGTH): string | null {
  if (value.length < min) return `is only ${value.length} characters (at least ${min})`;
  if (new Set(value).size <= 3) return 'repeats the same few characters';
  if (/^\d+$/.test(value) && /(0123|1234|2345|3456|4567|5678|6789|9876|(\d)\2\2\2)/.test(value)) return 'is a run of digits';
  // common words padded with a few digits or symbols ("Password123!"); many random digits are not
  if (value.replace(/[a-z]/gi, '').length < 8 && onlyCommonWords(value)) return 'is made of common words (and digits): easy to guess';
  return null;
}
