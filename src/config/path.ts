/** Formats a path as `environments.dev.nodes[1].host`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    // a key that is not a plain word (spaces, control characters, dots) is shown quoted
    else if (!/^[A-Za-z0-9_-]+$/.test(String(part))) out += `[${JSON.stringify(String(part))}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}
