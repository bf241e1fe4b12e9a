/**
 * Where a result came from: package and numerics versions, git commit (when the package is a
 * git checkout), Node version, host and platform. Collected once per process; stored
 * deduplicated and referenced by sweeps and results.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { arch, hostname, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NUMERICS_VERSION } from '../core/version.ts';
import type { Db } from './open.ts';
import { writeTransaction } from './writer.ts';

export interface Provenance {
  package_version: string;
  numerics_version: number;
  /** '' when unknown */
  git_commit: string;
  node_version: string;
  host: string;
  platform: string;
}

/** The package root: the nearest directory above this module with our package.json. */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'aimc-sweep') return dir;
      } catch {
        // unreadable package.json: keep looking upwards
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

let cached: Provenance | undefined;

export function localProvenance(): Provenance {
  if (cached) return cached;
  const root = packageRoot();
  let version = 'unknown';
  let commit = '';
  if (root) {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    if (existsSync(join(root, '.git'))) {
      try {
        commit = execFileSync('git', ['rev-parse', 'HEAD'], {
          cwd: root,
          timeout: 2000,
          stdio: ['ignore', 'pipe', 'ignore'],
        })
          .toString()
          .trim();
      } catch {
        // git missing or not a repository: leave the commit unknown
      }
    }
  }
  cached = {
    package_version: version,
    numerics_version: NUMERICS_VERSION,
    git_commit: commit,
    node_version: process.version,
    host: hostname(),
    platform: `${platform()}-${arch()}`,
  };
  return cached;
}

/** The id of `p` in the provenance table, inserting it when new. */
export function provenanceId(db: Db, p: Provenance): number {
  writeTransaction(db, 'provenance', () =>
    db
      .prepare(
        `INSERT OR IGNORE INTO provenance (package_version, numerics_version, git_commit, node_version, host, platform)
         VALUES (@package_version, @numerics_version, @git_commit, @node_version, @host, @platform)`,
      )
      .run(p),
  );
  const row = db
    .prepare(
      `SELECT id FROM provenance WHERE package_version = @package_version AND numerics_version = @numerics_version
       AND git_commit = @git_commit AND node_version = @node_version AND host = @host AND platform = @platform`,
    )
    .get(p) as { id: number };
  return row.id;
}
