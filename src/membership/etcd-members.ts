import { TwincigoError } from '../errors.js';

/** One line of `etcdctl member list --write-out=simple --hex`. */
export interface EtcdMember {
  id: string;
  started: boolean;
  /** Empty for a member added but not started yet. */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
}

export function parseMemberList(text: string): EtcdMember[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [id = '', status = '', name = '', peers = '', clients = ''] = line.split(',').map((s) => s.trim());
      if (!/^[0-9a-f]+$/.test(id)) throw new TwincigoError(`etcd member list: cannot read "${line}"`);
      const urls = (s: string) => s.split(/\s+/).filter(Boolean);
      return { id, started: status === 'started', name, peerUrls: urls(peers), clientUrls: urls(clients) };
    });
}

/** etcd's peer URL for a node's cluster address (IPv6 in brackets). */
export const peerUrl = (address: string) => `http://${address.includes(':') ? `[${address}]` : address}:2380`;

/** What replacing one member needs of etcd's member list. */
export interface EtcdReplacement {
  /** Members to remove first: the dead one (and a half-added one at another address). */
  remove: EtcdMember[];
  /** Announce the new member (it then starts with initial-cluster-state existing). */
  add: boolean;
  /** Why, for the step's line. */
  why: string;
}

/**
 * Replacing `name` by a machine at `address`. `joined`: the new machine already runs a member with
 * data (an earlier run got that far) — then it is kept. A member added by an earlier run but never
 * started is kept too; anything else named `name` is the dead member's and goes.
 */
export function etcdReplacement(members: readonly EtcdMember[], name: string, address: string, joined: boolean): EtcdReplacement {
  const url = peerUrl(address);
  const taken = members.find((m) => m.name && m.name !== name && m.peerUrls.includes(url));
  if (taken) throw new TwincigoError(`etcd member ${taken.name} already has the peer address ${url}`, undefined, [`${address} belongs to ${taken.name}: give the replacement of ${name} its own address`]);
  const mine = members.filter((m) => m.name === name || m.peerUrls.includes(url));
  if (joined) {
    const live = mine.find((m) => m.started && m.name === name && m.peerUrls.includes(url));
    if (live) return { remove: mine.filter((m) => m !== live), add: false, why: `${name} is a member at ${url} already` };
    throw new TwincigoError(`the replacement machine for ${name} has etcd data, but etcd has no started member ${name} at ${url}`, undefined, [
      'it holds data of another cluster or of an earlier machine: remove its twincigo etcd volume (docker volume rm twincigo_etcd-data) and run node replace again',
    ]);
  }
  const pending = mine.find((m) => !m.started && m.peerUrls.includes(url));
  if (pending) return { remove: mine.filter((m) => m !== pending), add: false, why: `${name} was announced at ${url} by an earlier run` };
  return { remove: mine, add: true, why: mine.length ? `dead member ${mine.map((m) => m.id).join(', ')} out, ${name} at ${url} in` : `${name} at ${url} in` };
}

/** A quorum of `total` members: more than half. */
export const quorumOf = (total: number) => Math.floor(total / 2) + 1;
