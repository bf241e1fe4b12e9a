/**
 * deploy/k8s: every manifest parses, and the rendered objects (the manifests with the
 * kustomization's images and replicas applied, as `kubectl apply -k` would) hang together:
 * kinds, labels and selectors, the Service in front of the coordinator's port, the workers
 * pointed at the Service, the token from the Secret by --token-file, the coordinator on 0.0.0.0
 * with its database on the volume, threads = CPUs, one image and command, options the CLI has.
 *
 * Each check runs on the real manifests (must pass) and on copies broken in the ways it exists
 * to catch (must throw), so no check can pass vacuously.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';

const DIR = new URL('../deploy/k8s/', import.meta.url);
const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

// ---- the subset of the Kubernetes objects the checks read ------------------------------------

type Labels = Record<string, string>;
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    resourceFieldRef?: { containerName?: string; resource: string; divisor?: string | number };
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
  };
}
interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { tcpSocket?: { port: string | number } };
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  volumeMounts?: VolumeMount[];
}
interface Volume {
  name: string;
  secret?: { secretName: string; defaultMode?: number; items?: { key: string; path: string }[] };
  emptyDir?: object;
  persistentVolumeClaim?: { claimName: string };
}
interface PodTemplate {
  metadata: { labels?: Labels };
  spec: {
    containers: Container[];
    volumes?: Volume[];
    terminationGracePeriodSeconds?: number;
    securityContext?: { runAsUser?: number; fsGroup?: number };
  };
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels };
  spec: {
    // Service
    selector?: Labels | { matchLabels?: Labels };
    ports?: { name?: string; port: number; targetPort?: string | number }[];
    // StatefulSet, Deployment
    replicas?: number;
    serviceName?: string;
    template?: PodTemplate;
    volumeClaimTemplates?: {
      metadata: { name: string };
      spec: { accessModes?: string[]; resources?: { requests?: { storage?: string } } };
    }[];
  };
}
interface Kustomization {
  apiVersion: string;
  kind: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  replicas?: { name: string; count: number }[];
  [field: string]: unknown;
}

// ---- loading and rendering -------------------------------------------------------------------

const yamlFiles = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
  .sort();

function parseFile(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(new URL(file, DIR), 'utf8'), { uniqueKeys: true });
  if (!Array.isArray(docs)) throw new Error(`${file}: not YAML`);
  return docs.map((d, i) => {
    assert.deepEqual(d.errors.map(String), [], `${file} document ${i + 1}: YAML errors`);
    assert.deepEqual(d.warnings.map(String), [], `${file} document ${i + 1}: YAML warnings`);
    return d.toJS() as unknown;
  });
}

const kustomization = parseFile('kustomization.yaml')[0] as Kustomization;
const manifestFiles = yamlFiles.filter((f) => f !== 'kustomization.yaml');
const objectsByFile = new Map(manifestFiles.map((f) => [f, parseFile(f).filter((d) => d !== null) as K8sObject[]]));

/** What `kubectl kustomize` makes of the directory, for the transformers the kustomization uses. */
function render(k: Kustomization): K8sObject[] {
  const out: K8sObject[] = [];
  for (const file of k.resources ?? []) out.push(...structuredClone(objectsByFile.get(file) ?? []));
  for (const o of out) {
    const r = k.replicas?.find((x) => x.name === o.metadata.name);
    if (r && (o.kind === 'Deployment' || o.kind === 'StatefulSet')) o.spec.replicas = r.count;
    for (const c of o.spec.template?.spec.containers ?? []) {
      const [name, tag] = splitImage(c.image);
      const img = k.images?.find((x) => x.name === name);
      if (img) c.image = `${img.newName ?? name}:${img.newTag ?? tag}`;
    }
  }
  return out;
}

function splitImage(image: string): [string, string] {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, 'latest'];
}

// ---- accessors ---------------------------------------------------------------------------------

function one(objs: K8sObject[], kind: string): K8sObject {
  const found = objs.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `expected exactly one ${kind}, found ${found.length}`);
  return found[0];
}
const service = (objs: K8sObject[]): K8sObject => one(objs, 'Service');
const coordinator = (objs: K8sObject[]): K8sObject => one(objs, 'StatefulSet');
const workers = (objs: K8sObject[]): K8sObject => one(objs, 'Deployment');

function pod(w: K8sObject): PodTemplate {
  assert.ok(w.spec.template, `${w.kind} ${w.metadata.name}: no pod template`);
  return w.spec.template;
}
function container(w: K8sObject): Container {
  const cs = pod(w).spec.containers;
  assert.equal(cs.length, 1, `${w.kind} ${w.metadata.name}: expected one container`);
  return cs[0];
}
/** The value following `flag` in the container's args (the flag given exactly once). */
function option(c: Container, flag: string): string {
  const args = c.args ?? [];
  const at = args.flatMap((a, i) => (a === flag ? [i] : []));
  assert.equal(at.length, 1, `${c.name}: expected ${flag} once in args ${JSON.stringify(args)}`);
  const value = args[at[0] + 1];
  assert.ok(value !== undefined && !value.startsWith('--'), `${c.name}: ${flag} has no value`);
  return String(value);
}
function hostPort(address: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(address);
  assert.ok(m, `expected host:port, got ${address}`);
  return { host: m[1], port: Number(m[2]) };
}
function isSubset(small: Labels | undefined, big: Labels | undefined): boolean {
  return (
    small !== undefined && Object.keys(small).length > 0 && Object.entries(small).every(([k, v]) => big?.[k] === v)
  );
}
function matchLabels(w: K8sObject): Labels | undefined {
  return (w.spec.selector as { matchLabels?: Labels } | undefined)?.matchLabels;
}
/** CPU quantity in cores ("4", 4, "500m"). */
function cores(q: string | number | undefined): number {
  if (typeof q === 'number') return q;
  assert.ok(q !== undefined, 'cpu quantity missing');
  return q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q);
}
/** The volume mounted at the directory holding `file`, and the file's name relative to it. */
function mountOf(w: K8sObject, file: string): { mount: VolumeMount; volume: Volume; relative: string } {
  const c = container(w);
  const mount = (c.volumeMounts ?? []).find((m) => file.startsWith(m.mountPath.replace(/\/?$/, '/')));
  assert.ok(mount, `${c.name}: no volume mounted above ${file}`);
  const volume = (pod(w).spec.volumes ?? []).find((v) => v.name === mount.name);
  return { mount, volume: volume ?? { name: mount.name }, relative: posix.relative(mount.mountPath, file) };
}

// ---- the checks ------------------------------------------------------------------------------

type Check = (objs: K8sObject[]) => void;

const checkKinds: Check = (objs) => {
  assert.deepEqual(objs.map((o) => `${o.apiVersion} ${o.kind}`).sort(), [
    'apps/v1 Deployment',
    'apps/v1 StatefulSet',
    'v1 Service',
  ]);
  for (const o of objs) {
    assert.match(o.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${o.kind} name`);
    assert.equal(
      o.metadata.namespace,
      undefined,
      `${o.kind} ${o.metadata.name}: names a namespace (the manifests are namespace-agnostic)`,
    );
  }
};

const checkSelectors: Check = (objs) => {
  const svc = service(objs);
  const coord = coordinator(objs);
  const work = workers(objs);
  for (const w of [coord, work]) {
    assert.ok(
      isSubset(matchLabels(w), pod(w).metadata.labels),
      `${w.kind}: selector ${JSON.stringify(matchLabels(w))} does not select its own pods`,
    );
    assert.ok(isSubset(matchLabels(w), w.metadata.labels), `${w.kind}: its labels differ from its selector`);
  }
  assert.ok(
    !isSubset(matchLabels(coord), pod(work).metadata.labels),
    'the StatefulSet selector also selects the worker pods',
  );
  assert.ok(
    !isSubset(matchLabels(work), pod(coord).metadata.labels),
    'the Deployment selector also selects the coordinator pod',
  );
  const svcSelector = svc.spec.selector as Labels | undefined;
  assert.ok(isSubset(svcSelector, pod(coord).metadata.labels), 'the Service does not select the coordinator pod');
  assert.ok(!isSubset(svcSelector, pod(work).metadata.labels), 'the Service also selects worker pods');
  assert.equal(coord.spec.serviceName, svc.metadata.name, 'StatefulSet serviceName is not the Service');
  assert.equal(coord.spec.replicas, 1, 'the coordinator must run exactly one replica (single writer)');
  assert.ok(Number.isInteger(work.spec.replicas) && (work.spec.replicas as number) >= 1, 'workers: replicas');
};

const checkServicePort: Check = (objs) => {
  const ports = service(objs).spec.ports ?? [];
  assert.equal(ports.length, 1, 'the Service has one port');
  const [p] = ports;
  assert.equal(p.port, 50051);
  const c = container(coordinator(objs));
  const target = p.targetPort ?? p.port;
  const cp = (c.ports ?? []).find((x) => (typeof target === 'number' ? x.containerPort === target : x.name === target));
  assert.ok(cp, `the Service's targetPort ${target} is no port of the coordinator container`);
  assert.equal(
    cp.containerPort,
    hostPort(option(c, '--listen')).port,
    'the coordinator listens on another port than its containerPort',
  );
  const probe = c.readinessProbe?.tcpSocket?.port;
  assert.ok(probe === cp.name || probe === cp.containerPort, 'the readiness probe checks another port');
};

const checkCoordinator: Check = (objs) => {
  const coord = coordinator(objs);
  const c = container(coord);
  assert.equal(c.args?.[0], 'serve');
  assert.equal(
    hostPort(option(c, '--listen')).host,
    '0.0.0.0',
    'inside a pod the coordinator must listen on 0.0.0.0 (the Service connects to the pod IP)',
  );
  const db = option(c, '--db');
  assert.ok(posix.isAbsolute(db), '--db is an absolute path');
  const { volume, mount, relative } = mountOf(coord, db);
  assert.ok(!mount.readOnly, 'the database volume is mounted read-only');
  const claim = (coord.spec.volumeClaimTemplates ?? []).find((t) => t.metadata.name === mount.name);
  assert.ok(
    claim,
    `--db ${db} is not on a volumeClaimTemplate (it is on ${JSON.stringify(volume)}): the results would die ` +
      `with the pod`,
  );
  assert.ok(!relative.includes('/') && relative.length > 0, '--db is directly on the volume');
  assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
  assert.match(claim.spec.resources?.requests?.storage ?? '', /^\d+(Mi|Gi|Ti)$/, 'the claim requests storage');
};

const checkWorkers: Check = (objs) => {
  const svc = service(objs);
  const c = container(workers(objs));
  assert.equal(c.args?.[0], 'worker');
  const { host, port } = hostPort(option(c, '--coordinator'));
  assert.equal(
    host,
    svc.metadata.name,
    'workers must reach the coordinator by the Service name (namespace-relative DNS)',
  );
  assert.equal(port, svc.spec.ports?.[0]?.port, "workers must use the Service's port");
  assert.ok(
    (pod(workers(objs)).spec.terminationGracePeriodSeconds ?? 30) >= 120,
    'workers need time to drain on SIGTERM',
  );
};

const checkToken: Check = (objs) => {
  const secretNames = new Set<string>();
  for (const w of [coordinator(objs), workers(objs)]) {
    const c = container(w);
    const file = option(c, '--token-file');
    const { mount, volume, relative } = mountOf(w, file);
    assert.ok(volume.secret, `${c.name}: --token-file ${file} is not on a Secret volume`);
    assert.equal(mount.readOnly, true, `${c.name}: the token volume is not mounted read-only`);
    const items = volume.secret.items;
    const key = items ? items.find((i) => i.path === relative)?.key : relative;
    assert.equal(key, 'token', `${c.name}: --token-file ${file} is not the Secret's key "token"`);
    const mode = volume.secret.defaultMode ?? 0o644;
    assert.equal(mode & 0o007, 0, `${c.name}: the token file is world-readable (defaultMode ${mode.toString(8)})`);
    const sc = pod(w).spec.securityContext;
    if (sc?.runAsUser !== 0) {
      assert.ok(
        mode & 0o040 && sc?.fsGroup !== undefined,
        `${c.name}: a non-root container reads the token through fsGroup and a group-readable mode`,
      );
    }
    assert.ok(
      !(c.env ?? []).some((e) => e.valueFrom?.secretKeyRef),
      `${c.name}: the token must not be in the environment`,
    );
    secretNames.add(volume.secret.secretName);
  }
  assert.equal(secretNames.size, 1, `coordinator and workers use different Secrets: ${[...secretNames].join(', ')}`);
};

const checkThreads: Check = (objs) => {
  const c = container(workers(objs));
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  const cpu = cores(limits.cpu);
  assert.ok(Number.isInteger(cpu) && cpu >= 1, `workers: limits.cpu ${limits.cpu} is not a whole number of cores`);
  assert.equal(
    cores(requests.cpu),
    cpu,
    'workers: requests.cpu differs from limits.cpu (threads would compete for fewer cores)',
  );
  assert.equal(String(requests.memory), String(limits.memory), 'workers: requests.memory differs from limits.memory');
  const threads = option(c, '--threads');
  const ref = /^\$\(([A-Z_][A-Z0-9_]*)\)$/.exec(threads);
  if (ref) {
    const env = (c.env ?? []).find((e) => e.name === ref[1]);
    assert.ok(env, `--threads ${threads}: no env ${ref[1]}`);
    const field = env.valueFrom?.resourceFieldRef;
    assert.ok(field, `env ${ref[1]}: not from the container's resources`);
    assert.equal(field.resource, 'limits.cpu');
    assert.equal(field.containerName ?? c.name, c.name);
    assert.equal(String(field.divisor ?? '1'), '1');
  } else {
    assert.equal(Number(threads), cpu, `--threads ${threads} differs from limits.cpu ${cpu}`);
  }
};

const checkImages: Check = (objs) => {
  const cs = [container(coordinator(objs)), container(workers(objs))];
  assert.equal(new Set(cs.map((c) => c.image)).size, 1, `different images: ${cs.map((c) => c.image).join(', ')}`);
  assert.equal(
    splitImage(cs[0].image)[1],
    PACKAGE_VERSION,
    `image tag differs from package.json's version ${PACKAGE_VERSION}`,
  );
  for (const c of cs) assert.deepEqual(c.command, ['aimc-sweep'], `${c.name}: command (the image's entrypoint)`);
};

/** `aimc-sweep <command> --help`: the options the CLI has (cached per command). */
const helpCache = new Map<string, Set<string>>();
function cliOptions(command: string): Set<string> {
  let opts = helpCache.get(command);
  if (!opts) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, command, '--help'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `aimc-sweep ${command} --help: ${r.stderr}`);
    opts = new Set(r.stdout.match(/--[a-z][a-z-]*/g) ?? []);
    helpCache.set(command, opts);
  }
  return opts;
}
const checkCliOptions: Check = (objs) => {
  for (const c of [container(coordinator(objs)), container(workers(objs))]) {
    const [command, ...rest] = c.args ?? [];
    const known = cliOptions(command);
    for (const a of rest) if (a.startsWith('--')) assert.ok(known.has(a), `aimc-sweep ${command} has no option ${a}`);
  }
};

// ---- tests -----------------------------------------------------------------------------------

type Mutation = [string, (objs: K8sObject[]) => void];
const CASES: { name: string; check: Check; breaks: Mutation[] }[] = [
  {
    name: 'kinds: a Service, a StatefulSet and a Deployment, none naming a namespace',
    check: checkKinds,
    breaks: [
      ['Service dropped', (o) => o.splice(o.indexOf(service(o)), 1)],
      ['namespace set', (o) => (workers(o).metadata.namespace = 'default')],
      ['Deployment on an old API', (o) => (workers(o).apiVersion = 'extensions/v1beta1')],
    ],
  },
  {
    name: 'labels and selectors: each controller selects its pods, the Service the coordinator only',
    check: checkSelectors,
    breaks: [
      [
        'Service selects workers',
        (o) => ((service(o).spec.selector as Labels)['app.kubernetes.io/component'] = 'worker'),
      ],
      ['Service selects everything', (o) => delete (service(o).spec.selector as Labels)['app.kubernetes.io/component']],
      [
        'Deployment selector not matching its pods',
        (o) => ((matchLabels(workers(o)) as Labels)['app.kubernetes.io/component'] = 'workers'),
      ],
      ['two coordinators', (o) => (coordinator(o).spec.replicas = 2)],
      ['serviceName mismatch', (o) => (coordinator(o).spec.serviceName = 'coordinator')],
    ],
  },
  {
    name: "Service: port 50051 targets the coordinator container's port, which --listen uses",
    check: checkServicePort,
    breaks: [
      ['targetPort unknown', (o) => ((service(o).spec.ports ?? [])[0].targetPort = 'http')],
      ['containerPort differs from --listen', (o) => ((container(coordinator(o)).ports ?? [])[0].containerPort = 8080)],
      [
        '--listen on another port',
        (o) =>
          (container(coordinator(o)).args = (container(coordinator(o)).args ?? []).map((a) =>
            a.replace(':50051', ':50052'),
          )),
      ],
    ],
  },
  {
    name: 'coordinator: serve on 0.0.0.0 with --db on the PersistentVolumeClaim',
    check: checkCoordinator,
    breaks: [
      [
        '--listen 127.0.0.1',
        (o) =>
          (container(coordinator(o)).args = (container(coordinator(o)).args ?? []).map((a) =>
            a.replace('0.0.0.0', '127.0.0.1'),
          )),
      ],
      [
        '--db off the volume',
        (o) =>
          (container(coordinator(o)).args = (container(coordinator(o)).args ?? []).map((a) =>
            a.endsWith('.db') ? '/tmp/results.db' : a,
          )),
      ],
      ['no volumeClaimTemplate', (o) => (coordinator(o).spec.volumeClaimTemplates = [])],
    ],
  },
  {
    name: "workers: --coordinator is the Service's DNS name and port; time to drain",
    check: checkWorkers,
    breaks: [
      [
        'namespaced DNS name',
        (o) =>
          (container(workers(o)).args = (container(workers(o)).args ?? []).map((a) =>
            a.replace('aimc-sweep-coordinator:', 'aimc-sweep-coordinator.default.svc.cluster.local:'),
          )),
      ],
      [
        'wrong port',
        (o) =>
          (container(workers(o)).args = (container(workers(o)).args ?? []).map((a) => a.replace(':50051', ':50052'))),
      ],
      ['default grace period', (o) => delete pod(workers(o)).spec.terminationGracePeriodSeconds],
    ],
  },
  {
    name: 'token: one Secret, mounted read-only, passed by --token-file to coordinator and workers',
    check: checkToken,
    breaks: [
      [
        'workers use another Secret',
        (o) =>
          ((pod(workers(o)).spec.volumes ?? [])[0].secret = {
            ...(pod(workers(o)).spec.volumes ?? [])[0].secret,
            secretName: 'other',
          }),
      ],
      [
        '--token-file elsewhere',
        (o) =>
          (container(workers(o)).args = (container(workers(o)).args ?? []).map((a) =>
            a.replace('/var/run/secrets/aimc-sweep/token', '/etc/token'),
          )),
      ],
      [
        'wrong key',
        (o) =>
          (((pod(coordinator(o)).spec.volumes ?? []).find((v) => v.secret)?.secret?.items ?? [])[0].key = 'password'),
      ],
      [
        'world-readable',
        (o) =>
          (((pod(coordinator(o)).spec.volumes ?? []).find((v) => v.secret)?.secret ?? { secretName: '' }).defaultMode =
            0o444),
      ],
      [
        'mounted read-write',
        (o) =>
          (container(coordinator(o)).volumeMounts ?? []).forEach((m) => m.name === 'token' && (m.readOnly = false)),
      ],
    ],
  },
  {
    name: 'workers: threads follow limits.cpu, requests = limits',
    check: checkThreads,
    breaks: [
      ['requests below limits', (o) => ((container(workers(o)).resources?.requests ?? {}).cpu = '2')],
      [
        'threads from memory',
        (o) =>
          (container(workers(o)).env ?? []).forEach(
            (e) => e.valueFrom?.resourceFieldRef && (e.valueFrom.resourceFieldRef.resource = 'requests.memory'),
          ),
      ],
      [
        'fractional CPUs',
        (o) =>
          Object.assign(container(workers(o)).resources ?? {}, {
            requests: { cpu: '1500m', memory: '2Gi' },
            limits: { cpu: '1500m', memory: '2Gi' },
          }),
      ],
      [
        'literal threads off the limit',
        (o) =>
          (container(workers(o)).args = (container(workers(o)).args ?? []).map((a) =>
            a === '$(AIMC_SWEEP_THREADS)' ? '3' : a,
          )),
      ],
    ],
  },
  {
    name: "images and commands: one image tagged with package.json's version, entrypoint aimc-sweep",
    check: checkImages,
    breaks: [
      ['workers on another tag', (o) => (container(workers(o)).image = 'aimc-sweep:0.0.9')],
      [
        'both on a stale tag',
        (o) => [coordinator(o), workers(o)].forEach((w) => (container(w).image = 'aimc-sweep:0.0.9')),
      ],
      ['another command', (o) => (container(coordinator(o)).command = ['node', 'dist/src/cli/main.js'])],
    ],
  },
  {
    name: 'every option in the args is one `aimc-sweep serve|worker --help` lists',
    check: checkCliOptions,
    breaks: [
      [
        'misspelt option',
        (o) =>
          (container(workers(o)).args = (container(workers(o)).args ?? []).map((a) =>
            a === '--token-file' ? '--token' : a,
          )),
      ],
      [
        'serve option given to the worker',
        (o) => (container(workers(o)).args = [...(container(workers(o)).args ?? []), '--db', '/data/x.db']),
      ],
    ],
  },
];

const rendered = render(kustomization);

test('deploy/k8s: every YAML file parses; the kustomization lists every manifest and only uses images/replicas', () => {
  assert.ok(yamlFiles.includes('kustomization.yaml'));
  assert.deepEqual(
    [...(kustomization.resources ?? [])].sort(),
    manifestFiles,
    'kustomization resources vs the manifests in deploy/k8s',
  );
  assert.equal(kustomization.kind, 'Kustomization');
  const unknown = Object.keys(kustomization).filter(
    (k) => !['apiVersion', 'kind', 'resources', 'images', 'replicas'].includes(k),
  );
  assert.deepEqual(unknown, [], 'the test renders images and replicas only: teach render() any other transformer');
  for (const r of kustomization.replicas ?? [])
    assert.ok(
      rendered.some((o) => o.metadata.name === r.name),
      `replicas: no object ${r.name}`,
    );
  const images = rendered.filter((o) => o.spec.template).map((o) => splitImage(container(o).image)[0]);
  for (const i of kustomization.images ?? [])
    assert.ok(images.includes(i.newName ?? i.name), `images: no container uses ${i.name}`);
  assert.equal(workers(rendered).spec.replicas, kustomization.replicas?.[0]?.count);
});

for (const { name, check, breaks } of CASES) {
  test(`deploy/k8s: ${name}`, () => {
    check(rendered);
    for (const [what, mutate] of breaks) {
      const copy = structuredClone(rendered);
      mutate(copy);
      assert.throws(() => check(copy), assert.AssertionError, `the check misses: ${what}`);
    }
  });
}

test('deploy/k8s: the Dockerfile runs aimc-sweep as uid 1000, as the manifests expect', () => {
  const dockerfile = readFileSync(new URL('Dockerfile', DIR), 'utf8');
  assert.match(dockerfile, /^ENTRYPOINT \["aimc-sweep"\]$/m);
  assert.match(dockerfile, /^USER node$/m); // uid 1000 in the official node images
  assert.match(dockerfile, /^FROM node:\$\{NODE_VERSION\}-bookworm-slim$/m);
  for (const w of [coordinator(rendered), workers(rendered)])
    assert.equal(pod(w).spec.securityContext?.runAsUser, 1000);
});

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
test(
  'deploy/k8s: `kubectl kustomize` renders the same objects as this test',
  { skip: kubectl.status !== 0 ? 'kubectl is not installed' : false },
  () => {
    const r = spawnSync('kubectl', ['kustomize', new URL('.', DIR).pathname], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const byKey = (objs: K8sObject[]): Map<string, K8sObject> =>
      new Map(objs.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    const theirs = byKey(parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject));
    const ours = byKey(rendered);
    assert.deepEqual([...theirs.keys()].sort(), [...ours.keys()].sort());
    for (const [k, o] of ours) assert.deepEqual(theirs.get(k), o, k);
  },
);
