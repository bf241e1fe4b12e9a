/**
 * What the writer lock asks of the operating system, behind one injectable interface: this
 * machine's host name and this process's pid, whether a pid exists, and a process's state and
 * start time (Linux /proc). The lock (writer.ts), the store's open check (open.ts) and the
 * scheduler (src/coordinator/scheduler.ts, option `host`) probe the OS only through a HostProbe,
 * so tests give them another machine, a suspended owner or a reused pid without real processes.
 *
 * Built on it, the one verdict on a lock row's owner (`lockHeld`: a live process on this host,
 * or a heartbeat from another host fresher than the stale limit, keeps the lock). The lock
 * applies it before a takeover, open.ts before it migrates a schema; it lives here, below both.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** A process as /proc describes it. */
export interface ProcessStat {
  /** one letter: R running, S sleeping, T / t stopped, Z zombie, X dead, ... */
  state: string;
  /** start time in clock ticks since boot ('' when unknown): with the pid, a process's identity */
  started: string;
}

export interface HostProbe {
  /** this machine's host name */
  hostname(): string;
  /** this process's pid */
  readonly pid: number;
  /** whether a process with this pid exists on this machine (signal 0; another user's counts) */
  exists(pid: number): boolean;
  /** state and start time of a process on this machine; undefined when it is gone or the OS cannot tell (no /proc) */
  stat(pid: number): ProcessStat | undefined;
}

/** State and start time of a process, from /proc (undefined elsewhere or when gone). */
function procStat(pid: number): ProcessStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', started: fields[19] ?? '' };
}

/** This machine, as the OS says. */
export const localHost: HostProbe = {
  hostname,
  pid: process.pid,
  exists(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM'; // EPERM: it exists, another user's
    }
  },
  stat: procStat,
};

/** A lock owner: `host:pid`, and the process's start time on its host ('' when unknown). */
export interface LockOwner {
  owner: string;
  started: string;
}

/**
 * Whether the owner of a lock still runs: true or false when this host can tell (a process on
 * this host), undefined when only its heartbeat can (another host).
 */
export type OwnerLiveness = (owner: string, started: string) => boolean | undefined;

/** This process as a lock owner (`host:pid` and its start time). */
export function processIdentity(host: HostProbe = localHost): LockOwner {
  return { owner: `${host.hostname()}:${host.pid}`, started: host.stat(host.pid)?.started ?? '' };
}

/**
 * The pid of a `host:pid` owner on `host` (-1 when it names this host but no valid pid); undefined for another host.
 */
function localPid(owner: string, host: HostProbe): number | undefined {
  const at = owner.lastIndexOf(':');
  if (at < 0 || owner.slice(0, at) !== host.hostname()) return undefined;
  const pid = Number(owner.slice(at + 1));
  return Number.isInteger(pid) && pid > 0 ? pid : -1;
}

/**
 * The liveness of lock owners as `host` sees them: for `host:pid` on that host, whether the
 * process exists (a zombie does not; a stopped one does) and is the one that took the lock (its
 * start time, when recorded, matches); undefined for owners on other hosts.
 */
export function ownerLiveness(host: HostProbe = localHost): OwnerLiveness {
  return (owner, started) => {
    const pid = localPid(owner, host);
    if (pid === undefined) return undefined;
    if (pid < 0) return false;
    if (!host.exists(pid)) return false;
    const stat = host.stat(pid);
    if (stat === undefined) return true; // no /proc (not Linux): trust signal 0
    if (stat.state === 'Z' || stat.state === 'X') return false;
    if (started !== '' && stat.started !== '' && stat.started !== started) return false; // the pid was reused
    return true;
  };
}

/** The liveness of lock owners as this machine sees them. */
export const localOwnerAlive: OwnerLiveness = ownerLiveness(localHost);

/** ", stopped (...)" when `owner` is a suspended process on `host`; '' otherwise. */
export function suspendedNote(owner: string, host: HostProbe = localHost): string {
  const pid = localPid(owner, host);
  if (pid === undefined || pid < 0) return '';
  const state = host.stat(pid)?.state;
  return state === 'T' || state === 't' ? `, stopped (suspended): resume it (fg, or kill -CONT ${pid}) or end it` : '';
}

// ---- the verdict on a lock's owner ---------------------------------------------------------

/** The lock counts as abandoned by an owner on another host after this long without a heartbeat. */
export const DEFAULT_LOCK_STALE_MS = 15_000;

/**
 * Why `row`'s owner keeps the lock, or undefined when it may be taken over. `host` says whether
 * a live owner on this machine is suspended (for the message).
 */
export function lockHeld(
  row: { owner: string; owner_started?: string; refreshed_at: number },
  now: number,
  staleMs: number,
  alive: OwnerLiveness,
  host: HostProbe = localHost,
): string | undefined {
  const verdict = alive(row.owner, row.owner_started ?? '');
  const idle = Math.max(0, Math.round((now - row.refreshed_at) / 1000));
  if (verdict === true)
    return `${row.owner}, a live process on this host${suspendedNote(row.owner, host)}; active ${idle} s ago`;
  if (verdict === undefined && now - row.refreshed_at < staleMs) return `${row.owner}, active ${idle} s ago`;
  return undefined;
}
