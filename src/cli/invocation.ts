/**
 * How the user started this process, so that every command the CLI prints (the resume hint of
 * an interrupted `run`, the query that lists failed runs) is one they can paste into the shell
 * they typed it in:
 *
 * - `npm start`, `npm run <script>` (npm sets npm_lifecycle_event and npm_lifecycle_script):
 *   the same command is `npm start [-- extra args]`; other commands `node dist/src/cli/main.js ...`
 *   (run from the package root, where npm ran the script);
 * - `npx aimc-sweep`, `npm exec aimc-sweep` (npm_command exec): `npx aimc-sweep ...`;
 * - a bin link (`aimc-sweep` on the PATH after `npm link` or `npm install -g`): `aimc-sweep ...`,
 *   or the link's path when that is not the `aimc-sweep` the PATH finds;
 * - anything else (`node dist/src/cli/main.js`, `node --import tsx src/cli/main.ts`): node, its
 *   options and the script's path, relative to the working directory when inside it.
 *
 * Every word is quoted for a POSIX shell where it needs it. Where npm ran the command from
 * another directory than the one the user typed it in (npm_config INIT_CWD), the printed
 * commands start with `cd <package root> &&`, since their paths are relative to it.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { basename, delimiter, isAbsolute, join, relative, resolve, sep } from 'node:path';

export interface ProcessView {
  argv: readonly string[];
  execArgv: readonly string[];
  execPath: string;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

/**
 * A word safe for a POSIX shell as it is, else quoted: in '...', or "..." where it holds a ' and nothing "..." expands.
 */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_./:=@%+,-]+$/.test(s)) return s;
  if (s.includes("'") && !/[$`"\\!]/.test(s)) return `"${s}"`;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function realpath(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** The file the shell runs for `name` (first executable match on PATH), or undefined. */
function onPath(name: string, env: ProcessView['env']): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `path` relative to `cwd` when it lies inside it (`dist/src/cli/main.js`; not below /), else absolute. */
function shownPath(path: string, cwd: string): string {
  if (resolve(cwd) === sep) return path;
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Splits an npm script's text into words (plain words and simple quotes; enough to compare). */
function words(script: string): string[] | undefined {
  if (/[|&;<>()`$\\]/.test(script)) return undefined; // a compound or substituted command: not ours to parse
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (let m = re.exec(script); m !== null; m = re.exec(script)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** npm's short forms of its lifecycle scripts; every other script is `npm run <name>`. */
const NPM_SHORT = new Set(['start', 'stop', 'restart', 'test']);

export interface Invocation {
  /** the words that run aimc-sweep here: `aimc-sweep`, `npx aimc-sweep`, `node dist/src/cli/main.js` */
  prefix: string[];
  /** the words of this very command line, as typed (`npm start`) or rebuilt (prefix + arguments) */
  same: string[];
  /** `cd <dir> &&` when the printed paths are relative to another directory than the user's */
  cd?: string;
}

/**
 * The invocation of this process, from its argv and environment. `view` defaults to the
 * running process (tests pass their own).
 */
export function invocation(view: ProcessView = currentProcess()): Invocation {
  const { argv, env, cwd } = view;
  const script = argv[1] ?? '';
  const args = argv.slice(2);
  const scriptPath = resolve(cwd, script);
  const scriptReal = realpath(scriptPath) ?? scriptPath;
  // the user typed the command in INIT_CWD; npm ran it in the package root
  const typedIn = env.INIT_CWD;
  const cd =
    typedIn !== undefined && typedIn !== '' && resolve(typedIn) !== resolve(cwd)
      ? relative(resolve(typedIn), cwd) || '.'
      : undefined;

  const direct = directPrefix(view, scriptPath, scriptReal);

  // npx aimc-sweep / npm exec aimc-sweep: npm ran the bin link it installed or found
  if (env.npm_command === 'exec' && basename(script) === 'aimc-sweep') {
    const prefix = ['npx', 'aimc-sweep'];
    return { prefix, same: [...prefix, ...args] };
  }

  // npm start / npm run <name>: only when that script is what started this process
  const event = env.npm_lifecycle_event;
  const lifecycle = env.npm_lifecycle_script;
  if (event && lifecycle && env.npm_command !== 'exec') {
    const extra = extraArgs(words(lifecycle), view, scriptReal);
    if (extra !== undefined) {
      const npm = NPM_SHORT.has(event) ? ['npm', event] : ['npm', 'run', event];
      const same = extra.length > 0 ? [...npm, '--', ...extra] : npm;
      return { prefix: direct, same, cd };
    }
  }
  return { prefix: direct, same: [...direct, ...args] };
}

/**
 * The arguments npm appended to the script (after `--`), when the script's words run this very
 * file with a prefix of this process's arguments; undefined when the script is not this process.
 */
function extraArgs(scriptWords: string[] | undefined, view: ProcessView, scriptReal: string): string[] | undefined {
  if (scriptWords === undefined) return undefined;
  const at = scriptWords.findIndex(
    (w, i) => i > 0 && (realpath(resolve(view.cwd, w)) ?? resolve(view.cwd, w)) === scriptReal,
  );
  if (at < 0) return undefined;
  const fixed = scriptWords.slice(at + 1);
  const args = view.argv.slice(2);
  if (fixed.length > args.length || fixed.some((w, i) => w !== args[i])) return undefined;
  return args.slice(fixed.length);
}

/** The words that run this script directly: its bin name, its path, or node and the script. */
function directPrefix(view: ProcessView, scriptPath: string, scriptReal: string): string[] {
  const { env, cwd } = view;
  if (basename(scriptPath) === 'aimc-sweep') {
    // a bin link: the bare name when the shell finds this very one
    const found = onPath('aimc-sweep', env);
    if (found !== undefined && (realpath(found) ?? found) === scriptReal) return ['aimc-sweep'];
    return [shownPathOrDotSlash(scriptPath, cwd)];
  }
  const nodeOnPath = onPath('node', env);
  const node = nodeOnPath !== undefined && realpath(nodeOnPath) === realpath(view.execPath) ? 'node' : view.execPath;
  return [node, ...view.execArgv, shownPath(scriptPath, cwd)];
}

/** An executable's path as the shell runs it: `./bin/aimc-sweep` (not `bin/aimc-sweep`) or absolute. */
function shownPathOrDotSlash(path: string, cwd: string): string {
  const shown = shownPath(path, cwd);
  return isAbsolute(shown) ? shown : `.${sep}${shown}`;
}

function currentProcess(): ProcessView {
  return {
    argv: process.argv,
    execArgv: process.execArgv,
    execPath: process.execPath,
    env: process.env,
    cwd: process.cwd(),
  };
}

let cached: Invocation | undefined;

function render(inv: Invocation, words: string[]): string {
  const line = words.map(shellQuote).join(' ');
  return inv.cd === undefined ? line : `cd ${shellQuote(inv.cd)} && ${line}`;
}

/** A command line that runs aimc-sweep with `args` the way this process was started. */
export function commandLine(...args: string[]): string {
  cached ??= invocation();
  return render(cached, [...cached.prefix, ...args]);
}

/** This process's own command line, to run it again (resume). */
export function sameCommandLine(): string {
  cached ??= invocation();
  return render(cached, cached.same);
}
