import { readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';

/** A node's addresses as the inventory should now say them. */
export interface AddressChange {
  env: string;
  node: string;
  host: string;
  /** Written only when the inventory sets one for the node, or it differs from host. */
  privateAddress: string;
}

export type EditResult =
  | { edited: true; file: string; lines: string[] }
  | { edited: false; why: string; lines: string[] };

/** The inventory file and its side files (`<stem>.<env>.yml`), where an environment may be defined. */
function candidates(inventoryFile: string): string[] {
  const dir = dirname(inventoryFile);
  const stem = basename(inventoryFile).replace(/\.ya?ml$/, '');
  const side = readdirSync(dir).filter((f) => f.startsWith(`${stem}.`) && /\.ya?ml$/.test(f) && f !== basename(inventoryFile)).sort();
  return [inventoryFile, ...side.map((f) => join(dir, f))];
}

/** What the operator would write by hand (the edit's fallback). */
const wanted = (c: AddressChange, privateToo: boolean) => [
  `environments.${c.env}.nodes[name=${c.node}].host: ${c.host}`,
  ...(privateToo ? [`environments.${c.env}.nodes[name=${c.node}].privateAddress: ${c.privateAddress}`] : []),
];

/** The file that defines the environment, parsed (comments and layout kept), or null. */
function envDocument(inventoryFile: string, env: string): { file: string; doc: Document } | null {
  for (const file of candidates(inventoryFile)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const doc = parseDocument(text);
    if (doc.hasIn(['environments', env])) return { file, doc };
  }
  return null;
}

/** Written to a temporary file beside it, then renamed over (its mode kept). */
function writeBack(file: string, text: string): void {
  const tmp = `${file}.twincigo-tmp`;
  writeFileSync(tmp, text, { mode: statSync(file).mode & 0o777 });
  renameSync(tmp, file);
}

function nodeIn(doc: Document, env: string, node: string) {
  const nodes = doc.getIn(['environments', env, 'nodes'], true);
  if (!isSeq(nodes)) return undefined;
  return nodes.items.find((it) => isMap(it) && it.get('name') === node);
}

/**
 * Sets a node's address in the file that defines its environment, keeping comments and layout
 * (written to a temporary file, then renamed over). When the node cannot be found as a plain map
 * (anchors, another layout), nothing is written and the lines to change are returned.
 */
export function setNodeAddress(inventoryFile: string, c: AddressChange): EditResult {
  const found = envDocument(inventoryFile, c.env);
  if (!found) return { edited: false, why: `no inventory file defines environment ${c.env}`, lines: wanted(c, true) };
  const { file, doc } = found;
  const node = nodeIn(doc, c.env, c.node);
  if (!node || !isMap(node)) return { edited: false, why: `${basename(file)} does not list ${c.node} as a plain entry of environments.${c.env}.nodes`, lines: wanted(c, true) };
  const privateToo = node.has('privateAddress') || c.privateAddress !== c.host;
  const lines: string[] = [];
  if (node.get('host') !== c.host) {
    lines.push(`host: ${String(node.get('host'))} → ${c.host}`);
    node.set('host', c.host);
  }
  if (privateToo && node.get('privateAddress') !== c.privateAddress) {
    lines.push(`privateAddress: ${String(node.get('privateAddress') ?? '(host)')} → ${c.privateAddress}`);
    node.set('privateAddress', c.privateAddress);
  }
  if (lines.length === 0) return { edited: true, file, lines: [] };
  const out = doc.toString();
  // the edit must read back as meant, or nothing is written
  const check = nodeIn(parseDocument(out), c.env, c.node);
  if (!check || !isMap(check) || check.get('host') !== c.host) return { edited: false, why: `the edit of ${basename(file)} did not read back`, lines: wanted(c, privateToo) };
  writeBack(file, out);
  return { edited: true, file, lines };
}

/** Removes a node's entry from the file that defines its environment (comments and layout kept), or says what to delete. */
export function removeNodeEntry(inventoryFile: string, env: string, node: string): EditResult {
  const manual = [`delete environments.${env}.nodes[name=${node}]`];
  const found = envDocument(inventoryFile, env);
  if (!found) return { edited: false, why: `no inventory file defines environment ${env}`, lines: manual };
  const { file, doc } = found;
  const nodes = doc.getIn(['environments', env, 'nodes'], true);
  const at = isSeq(nodes) ? nodes.items.findIndex((it) => isMap(it) && it.get('name') === node) : -1;
  if (!isSeq(nodes) || at < 0) return { edited: false, why: `${basename(file)} does not list ${node} as a plain entry of environments.${env}.nodes`, lines: manual };
  nodes.items.splice(at, 1);
  const lines = [`removed ${node}`];
  // the first leader named the removed node: the first database node left takes its place
  if (doc.getIn(['environments', env, 'initialLeader']) === node) {
    const next = nodes.items.find((it) => isMap(it) && ((it.toJSON() as { roles?: string[] }).roles ?? []).includes('patroni'));
    if (isMap(next)) {
      doc.setIn(['environments', env, 'initialLeader'], next.get('name'));
      lines.push(`initialLeader: ${node} → ${String(next.get('name'))}`);
    }
  }
  const out = doc.toString();
  if (nodeIn(parseDocument(out), env, node)) return { edited: false, why: `the edit of ${basename(file)} did not read back`, lines: manual };
  writeBack(file, out);
  return { edited: true, file, lines };
}
