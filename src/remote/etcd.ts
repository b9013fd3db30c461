import { execIn } from './compose.js';
import type { Command } from './shell.js';

/**
 * etcd's membership, as data: etcdctl inside a node's running etcd container, against that
 * member's loopback client URL (the firewall admits only the nodes; nothing is opened to the operator).
 */
const etcdctl = (...args: string[]): Command => execIn('etcd', ['etcdctl', '--endpoints=http://127.0.0.1:2379', '--command-timeout=10s', ...args]);

/** `<hex id>, <started|unstarted>, <name>, <peer urls>, <client urls>, <is learner>` per member (hex: a uint64 does not survive JSON numbers). */
export const etcdMemberListCommand = (): Command => etcdctl('member', 'list', '--write-out=simple', '--hex');

/** Removes a member by its hex id (needs a quorum of the remaining members). */
export const etcdMemberRemoveCommand = (hexId: string): Command => etcdctl('member', 'remove', hexId);

/** Announces a new member; it then starts with `--initial-cluster-state existing`. */
export const etcdMemberAddCommand = (name: string, peerUrl: string): Command => etcdctl('member', 'add', name, `--peer-urls=${peerUrl}`);

/** Deletes one key (a Patroni member key its node can no longer delete itself). */
export const etcdDeleteCommand = (key: string): Command => etcdctl('del', key);
