/**
 * deploy/slurm on a real one-node Slurm cluster: runs test/slurm.sh (which installs slurm-wlm
 * and munge with apt-get when missing, starts munged/slurmctld/slurmd in a temp dir, runs the
 * worker sbatch array against `aimc-sweep serve` and tears everything down). Skipped, with the
 * script's reason, only where Slurm is missing and apt-get is not there to install it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

const SCRIPT = new URL('./slurm.sh', import.meta.url).pathname;
const LIMIT_MS = 240_000; // the script bounds each of its waits; about 30 s here including apt-get

test(
  'deploy/slurm: a worker job array computes a sweep on a one-node Slurm (test/slurm.sh)',
  { timeout: LIMIT_MS + 30_000 },
  async (t) => {
    const child = spawn('bash', [SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let timedOut = false;
    // SIGTERM first: the script's EXIT trap stops the daemons it started; SIGKILL 30 s later
    const term = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, LIMIT_MS);
    const kill = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS + 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(term);
    clearTimeout(kill);

    const skip = /^SKIP: (.*)$/m.exec(out);
    if (code === 0 && skip) {
      t.skip(skip[1]);
      return;
    }
    assert.ok(!timedOut, `test/slurm.sh ran past ${LIMIT_MS / 1000} s:\n${out}`);
    assert.equal(code, 0, `test/slurm.sh exited ${code}:\n${out}`);
    assert.match(out, /PASS in \d+ s/, out);
    for (const line of out.split('\n')) if (line.startsWith('[slurm.sh')) t.diagnostic(line);
  },
);
