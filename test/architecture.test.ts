/**
 * The rooms of the house and what each may import (docs/architecture.md, "Rooms": its table is
 * this file's ROOM_RULES, and a test below holds them equal). A room is a directory of src/
 * (src/errors.ts is the room `errors`), plus `workers` (workers/, the thread pool's task file).
 *
 * The checker reads the import declarations of every file with a regular expression (`import
 * ... from`, `import type ... from`, `export ... from`, `import '...'`, and `import('...')` with
 * a literal) and checks: (a) each room imports only what its rule allows; (b) no cycle among
 * the files (dynamic imports, which load lazily, excepted); (c) the core uses no package and of
 * Node only what its kernel loader reads the WebAssembly file with, and no import leaves src/
 * and workers/ (nothing from outside the repository); (d) the one-door files
 * and packages are imported only where their door is. The checker is tested on small made-up
 * trees first, so that it is known to fail where it should.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * What each room may import: another room (`'store'`: any of its files), or one file of a room
 * (`'store/queue.ts'`: that file only). A room's own files are always allowed.
 */
export const ROOM_RULES: Record<string, readonly string[]> = {
  errors: [],
  gen: [],
  cost: ['errors'],
  core: ['cost', 'errors'],
  data: ['core', 'errors'],
  sweep: ['core', 'errors'],
  diagnostics: ['core', 'sweep', 'errors'],
  store: ['core', 'errors'],
  report: ['core', 'sweep', 'store/open.ts', 'store/results-read.ts', 'errors'],
  rpc: ['gen', 'core', 'store/queue.ts', 'store/provenance.ts', 'report/status.ts', 'errors'],
  worker: ['core', 'sweep', 'rpc', 'store/queue.ts', 'store/provenance.ts', 'workers', 'errors'],
  workers: ['core', 'data', 'worker', 'errors'],
  coordinator: ['core', 'sweep', 'store', 'report', 'rpc', 'worker/pool.ts', 'errors'],
  cli: ['core', 'cost', 'data', 'sweep', 'diagnostics', 'store', 'report', 'rpc', 'coordinator', 'worker', 'errors'],
};

/** Files that only the named files may import from outside their own room (the one-door rules). */
export const FILE_DOORS: Record<string, readonly string[]> = {
  // the scheduler is the only writer of the database: the lock and the writing SQL are its alone
  'src/store/writer.ts': ['src/coordinator/scheduler.ts'],
  'src/store/run-queue.ts': ['src/coordinator/scheduler-store.ts'],
  'src/store/workers.ts': ['src/coordinator/scheduler-store.ts'],
};

/** Packages only the named rooms may import. */
export const PACKAGE_DOORS: Record<string, readonly string[]> = {
  'better-sqlite3': ['store'], // SQL only in the store
  '@bufbuild/protobuf': ['gen', 'rpc'], // wire messages are built and read only in src/rpc
  yargs: ['cli'],
};

/** The Node modules each file of the core may import: the kernel loader reads build/kernels.wasm. */
export const CORE_NODE_MODULES: Record<string, readonly string[]> = {
  'src/core/kernels/loader.ts': ['node:fs'],
};

export interface Rules {
  rooms: Record<string, readonly string[]>;
  fileDoors: Record<string, readonly string[]>;
  packageDoors: Record<string, readonly string[]>;
  coreNode: Record<string, readonly string[]>;
}

const RULES: Rules = {
  rooms: ROOM_RULES,
  fileDoors: FILE_DOORS,
  packageDoors: PACKAGE_DOORS,
  coreNode: CORE_NODE_MODULES,
};

export interface ImportRef {
  spec: string;
  dynamic: boolean;
}

// `import x, { a, type B } from`, `import * as m from`, `import type { T } from`, `export { a } from`,
// `export * from`, `export type { T } from`, over several lines: the clause is names, braces, `*`
const FROM =
  /^[ \t]*(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,?\s*)?(?:\*\s*(?:as\s+[\w$]+\s*)?)?(?:\{[^}]*\}\s*)?from\s*(['"])([^'"\n]+)\1/gm;
const BARE = /^[ \t]*import\s*(['"])([^'"\n]+)\1/gm;
const DYNAMIC = /\bimport\(\s*(['"])([^'"\n]+)\1\s*\)/g;

/** The modules a source file imports, in order of kind (static first). */
export function parseImports(text: string): ImportRef[] {
  const refs: ImportRef[] = [];
  for (const m of text.matchAll(FROM)) refs.push({ spec: m[2], dynamic: false });
  for (const m of text.matchAll(BARE)) refs.push({ spec: m[2], dynamic: false });
  for (const m of text.matchAll(DYNAMIC)) refs.push({ spec: m[2], dynamic: true });
  return refs;
}

/** The room of a repository path (`src/store/open.ts` -> store), undefined outside src/ and workers/. */
export function roomOf(file: string): string | undefined {
  const parts = file.split('/');
  if (parts[0] === 'workers') return 'workers';
  if (parts[0] !== 'src' || parts.length < 2) return undefined;
  return parts.length === 2 ? parts[1].replace(/\.ts$/, '') : parts[1];
}

/** The package a bare specifier names: `@scope/name` or `name`, without its subpath. */
function packageOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

export interface Edge {
  from: string;
  /** a repository path for a relative import, else the specifier as written */
  to: string;
  /** a path (relative or absolute) or a URL, not a package or a Node module */
  file: boolean;
  dynamic: boolean;
}

/** Every import of `sources` (repository path -> text), relative ones resolved to repository paths. */
export function importEdges(sources: ReadonlyMap<string, string>): Edge[] {
  const edges: Edge[] = [];
  for (const [file, text] of sources) {
    for (const { spec, dynamic } of parseImports(text)) {
      const relative = spec.startsWith('.');
      const to = relative ? posix.normalize(posix.join(posix.dirname(file), spec)) : spec;
      edges.push({
        from: file,
        to,
        file: relative || spec.startsWith('/') || (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !isBuiltin(spec)),
        dynamic,
      });
    }
  }
  return edges;
}

/** Whether rule entry `entry` of a room allows importing repository file `to`. */
function allows(entry: string, to: string): boolean {
  return entry === roomOf(to) || to === `src/${entry}` || to === entry;
}

/** What the imports of `sources` do against `rules`: one line per problem (none when all is well). */
export function ruleViolations(sources: ReadonlyMap<string, string>, rules: Rules): string[] {
  const problems: string[] = [];
  for (const file of sources.keys()) {
    const room = roomOf(file);
    if (room === undefined) problems.push(`${file}: not in a room (src/<room>/ or workers/)`);
    else if (!(room in rules.rooms))
      problems.push(
        `${file}: room ${room} has no rule (add it to the table of test/architecture.test.ts and docs/architecture.md)`,
      );
  }
  for (const { from, to, file, dynamic } of importEdges(sources)) {
    const fromRoom = roomOf(from);
    if (fromRoom === undefined) continue;
    const how = dynamic ? 'imports (dynamically)' : 'imports';
    if (!file && isBuiltin(to)) {
      if (fromRoom === 'core' && !(rules.coreNode[from] ?? []).includes(to)) {
        problems.push(
          `${from} ${how} ${to}: the core does no I/O (only ${Object.entries(rules.coreNode)
            .map(([f, ms]) => `${f}: ${ms.join(', ')}`)
            .join('; ')})`,
        );
      }
      continue;
    }
    if (!file) {
      const pkg = packageOf(to);
      if (fromRoom === 'core') problems.push(`${from} ${how} package ${to}: the core imports no package`);
      const doors = rules.packageDoors[pkg];
      if (doors && !doors.includes(fromRoom))
        problems.push(`${from} ${how} package ${pkg}: only ${doors.join(', ')} may`);
      continue;
    }
    if (!(to.startsWith('src/') || to.startsWith('workers/'))) {
      problems.push(`${from} ${how} ${to}: outside src/ and workers/ (nothing outside the repository)`);
      continue;
    }
    if (!sources.has(to)) {
      problems.push(`${from} ${how} ${to}: no such file`);
      continue;
    }
    const toRoom = roomOf(to);
    if (toRoom === undefined || toRoom === fromRoom) continue;
    const allowed = rules.rooms[fromRoom] ?? [];
    if (!allowed.some((entry) => allows(entry, to))) {
      problems.push(
        `${from} ${how} ${to}: room ${fromRoom} may import only ` +
          `${allowed.length === 0 ? 'nothing' : allowed.join(', ')}`,
      );
    }
    const door = rules.fileDoors[to];
    if (door && !door.includes(from)) problems.push(`${from} ${how} ${to}: only ${door.join(', ')} may (one door)`);
  }
  return problems;
}

/**
 * The import cycles among `sources`' files, static imports only: one per strongly connected
 * component, as a path `a -> b -> ... -> a` from its first file (in path order), sorted so.
 */
export function importCycles(sources: ReadonlyMap<string, string>): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to, dynamic } of importEdges(sources)) {
    if (dynamic || !sources.has(to)) continue;
    const list = next.get(from) ?? [];
    if (!list.includes(to)) list.push(to);
    next.set(from, list);
  }
  // Tarjan's strongly connected components
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) components.push(component);
    }
  };
  for (const file of [...sources.keys()].sort()) if (!index.has(file)) visit(file);
  // one concrete cycle through each component: breadth-first from its first file back to it
  return components
    .map((component) => {
      const inside = new Set(component);
      const start = [...component].sort()[0];
      const parent = new Map<string, string>();
      const queue = [start];
      while (queue.length > 0) {
        const v = queue.shift()!;
        for (const w of next.get(v) ?? []) {
          if (!inside.has(w)) continue;
          if (w === start) {
            const path = [start];
            for (let u = v; u !== start; u = parent.get(u)!) path.splice(1, 0, u);
            return [...path, start];
          }
          if (!parent.has(w)) {
            parent.set(w, v);
            queue.push(w);
          }
        }
      }
      return [...component, component[0]];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Every .ts file under the repository's src/ and workers/, by repository path. */
function repositorySources(): Map<string, string> {
  const sources = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(posix.join(ROOT, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts'))
        sources.set(path, readFileSync(posix.join(ROOT, path), 'utf8'));
    }
  };
  walk('src');
  walk('workers');
  return sources;
}

/**
 * What the section "Rooms" of docs/architecture.md (`doc`) says each room may import: its table (room ->
 * entries of the second column) and its paragraphs (`### \`room\``, up to the blank line after
 * "May import:"), each as room -> sorted entries.
 */
export function documentedRules(doc: string): {
  table: Record<string, string[]>;
  paragraphs: Record<string, string[]>;
} {
  const start = doc.indexOf('\n## Rooms\n');
  assert.ok(start >= 0, 'docs/architecture.md has no section "## Rooms"');
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const names = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((t) => t[1]).sort();
  const table: Record<string, string[]> = {};
  for (const line of section.split('\n')) {
    const m = /^\| `([\w-]+)` \| ([^|]*) \|/.exec(line);
    if (m) table[m[1]] = names(m[2]);
  }
  const paragraphs: Record<string, string[]> = {};
  for (const m of section.matchAll(/^### `([\w-]+)`\n([\s\S]*?)(?=\n### |$(?![\s\S]))/gm)) {
    const at = m[2].indexOf('May import:');
    assert.ok(at >= 0, `docs/architecture.md, room ${m[1]}: no "May import:"`);
    const sentence = m[2].slice(at).split('\n\n')[0];
    paragraphs[m[1]] = names(sentence);
  }
  return { table, paragraphs };
}

// ---- the checker on made-up trees ----------------------------------------------------------

test(
  'parseImports: every static form, over several lines, type-only included; dynamic ones marked; prose is not an ' +
    'import',
  () => {
    const text = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      'import {',
      '  c,',
      '  type D,',
      "} from './c.ts';",
      "import * as e from 'e-pkg';",
      'import f, { g } from "./f.ts";',
      "export { h } from './h.ts';",
      "export type { I } from './i.ts';",
      "export * from './j.ts';",
      "export * as k from './k.ts';",
      "import './side-effect.ts';",
      "  const lazy = async () => (await import('./lazy.ts')).run;",
      ' * import { nope } from "./comment.ts" (in a comment: not an import)',
      "const s = 'import x from ./not.ts';",
      'export const l = 1;',
      "export function m(): string { return 'from'; }",
    ].join('\n');
    assert.deepEqual(parseImports(text), [
      { spec: './a.ts', dynamic: false },
      { spec: '../b.ts', dynamic: false },
      { spec: './c.ts', dynamic: false },
      { spec: 'e-pkg', dynamic: false },
      { spec: './f.ts', dynamic: false },
      { spec: './h.ts', dynamic: false },
      { spec: './i.ts', dynamic: false },
      { spec: './j.ts', dynamic: false },
      { spec: './k.ts', dynamic: false },
      { spec: './side-effect.ts', dynamic: false },
      { spec: './lazy.ts', dynamic: true },
    ]);
  },
);

test(
  'the checker finds a forbidden edge, a cycle, a Node module in the core, a closed door and an import from ' +
    'outside',
  () => {
    const rules: Rules = {
      rooms: { core: ['errors'], errors: [], store: ['core', 'errors'], cli: ['core', 'store'] },
      fileDoors: { 'src/store/writer.ts': ['src/store/open.ts'] },
      packageDoors: { 'better-sqlite3': ['store'] },
      coreNode: { 'src/core/loader.ts': ['node:fs'] },
    };
    const tree = new Map<string, string>([
      ['src/errors.ts', ''],
      ['src/core/loader.ts', "import { readFileSync } from 'node:fs';"],
      [
        'src/core/a.ts',
        "import { b } from './b.ts';\nimport { open } from '../store/open.ts';\nimport { readFileSync } from " +
          "'node:fs';",
      ],
      ['src/core/b.ts', "import type { A } from './a.ts';\nimport Database from 'better-sqlite3';"],
      ['src/store/open.ts', "import { lock } from './writer.ts';\nimport { EPOCHS } from '../core/loader.ts';"],
      ['src/store/writer.ts', "import type { Db } from './open.ts';"],
      [
        'src/cli/main.ts',
        "import { lock } from '../store/writer.ts';\nimport { x } from '../../outside/x.ts';\nimport { y } from " +
          "'../store/gone.ts';\nimport { w } from '/etc/w.ts';\nconst z = () => import('./main.ts');",
      ],
    ]);
    assert.deepEqual(ruleViolations(tree, rules), [
      'src/core/a.ts imports src/store/open.ts: room core may import only errors',
      'src/core/a.ts imports node:fs: the core does no I/O (only src/core/loader.ts: node:fs)',
      'src/core/b.ts imports package better-sqlite3: the core imports no package',
      'src/core/b.ts imports package better-sqlite3: only store may',
      'src/cli/main.ts imports src/store/writer.ts: only src/store/open.ts may (one door)',
      'src/cli/main.ts imports outside/x.ts: outside src/ and workers/ (nothing outside the repository)',
      'src/cli/main.ts imports src/store/gone.ts: no such file',
      'src/cli/main.ts imports /etc/w.ts: outside src/ and workers/ (nothing outside the repository)',
    ]);
    // two cycles: a <-> b inside the core, and open -> writer -> open (the dynamic self-import of main is none)
    assert.deepEqual(importCycles(tree), [
      ['src/core/a.ts', 'src/core/b.ts', 'src/core/a.ts'],
      ['src/store/open.ts', 'src/store/writer.ts', 'src/store/open.ts'],
    ]);
    // the same tree once the shared pieces have moved: nothing to report
    const fixed = new Map(tree);
    fixed.set('src/core/a.ts', "import { b } from './b.ts';");
    fixed.set('src/core/b.ts', '');
    fixed.set('src/store/writer.ts', '');
    fixed.set('src/cli/main.ts', "import { open } from '../store/open.ts';");
    fixed.set('src/store/open.ts', "import { lock } from './writer.ts';");
    assert.deepEqual(ruleViolations(fixed, rules), []);
    assert.deepEqual(importCycles(fixed), []);
  },
);

test('a cycle is reported as a path through its files, however long', () => {
  const tree = new Map<string, string>([
    ['src/core/a.ts', "import './b.ts';"],
    ['src/core/b.ts', "import './c.ts';\nimport './d.ts';"],
    ['src/core/c.ts', "import type { A } from './a.ts';"],
    ['src/core/d.ts', ''],
    ['src/core/self.ts', "export { x } from './self.ts';"],
  ]);
  assert.deepEqual(importCycles(tree), [
    ['src/core/a.ts', 'src/core/b.ts', 'src/core/c.ts', 'src/core/a.ts'],
    ['src/core/self.ts', 'src/core/self.ts'],
  ]);
});

test('a file outside every room, and a room without a rule, are reported', () => {
  const rules: Rules = { rooms: { core: [] }, fileDoors: {}, packageDoors: {}, coreNode: {} };
  const tree = new Map<string, string>([
    ['src/core/a.ts', ''],
    ['src/newroom/b.ts', ''],
    ['scripts/c.ts', ''],
  ]);
  assert.deepEqual(ruleViolations(tree, rules), [
    'src/newroom/b.ts: room newroom has no rule (add it to the table of test/architecture.test.ts and ' +
      'docs/architecture.md)',
    'scripts/c.ts: not in a room (src/<room>/ or workers/)',
  ]);
});

test("the doc's rooms are read from its table and from each room's paragraph, whichever disagrees", () => {
  const doc = [
    '# A house',
    '',
    '## Rooms',
    '',
    '| room | may import | why |',
    '|---|---|---|',
    '| `core` | `cost`, `errors` | |',
    '| `errors` | nothing | |',
    '',
    '### `core`',
    '',
    'The simulation (`train.ts`). May import: `cost`,',
    '`errors`, `store/open.ts`.',
    '',
    '### `errors`',
    '',
    'The base of bad input (`InputError`). May import: nothing.',
    '',
    '## Where things are',
    '',
    '| `store` | `x` |',
  ].join('\n');
  assert.deepEqual(documentedRules(doc), {
    table: { core: ['cost', 'errors'], errors: [] },
    paragraphs: { core: ['cost', 'errors', 'store/open.ts'], errors: [] },
  });
});

// ---- the checker on this repository ----------------------------------------------------------

test('src/ and workers/: every import is one its room may make (rooms, doors, packages, the pure core)', () => {
  const sources = repositorySources();
  assert.ok(sources.size > 100, `found only ${sources.size} files`);
  assert.deepEqual(ruleViolations(sources, RULES), []);
});

test('src/ and workers/: no import cycle', () => {
  const cycles = importCycles(repositorySources()).map((c) => c.join(' -> '));
  assert.deepEqual(cycles, []);
});

test('the rule table names only rooms that exist, and every room of the tree has a rule', () => {
  const rooms = new Set([...repositorySources().keys()].map(roomOf));
  assert.deepEqual(Object.keys(ROOM_RULES).sort(), [...rooms].sort());
  for (const [room, entries] of Object.entries(ROOM_RULES)) {
    for (const entry of entries) {
      const target = entry.includes('/') ? entry.split('/')[0] : entry;
      assert.ok(rooms.has(target) && target !== room, `${room}: ${entry} is not another room or one of its files`);
    }
  }
});

test("docs/architecture.md's rooms (its table, and each room's paragraph) say what this test's table says", () => {
  const { table, paragraphs } = documentedRules(readFileSync(posix.join(ROOT, 'docs/architecture.md'), 'utf8'));
  const rules = Object.fromEntries(Object.entries(ROOM_RULES).map(([room, entries]) => [room, [...entries].sort()]));
  assert.deepEqual(table, rules, 'the table of "Rooms"');
  assert.deepEqual(paragraphs, rules, 'the "May import:" of each room\'s paragraph');
});
