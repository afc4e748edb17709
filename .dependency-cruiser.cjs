/**
 * Which folders of src/ may import which (docs/architecture.md, "What may import what").
 * Run by `npm run lint` (and so by `npm test` and CI). Type-only imports count: a cycle of
 * types is still a cycle for the reader.
 */
const folder = (names) => `^src/(${names.join('|')})/`;

/** Folders below each layer may not import it (a layer imports only layers under it). */
const LAYERS = {
  base: ['model', 'common'],
  detection: ['findings', 'detectors', 'rules', 'engine'],
  reading: ['parse', 'extract', 'sources'],
  output: ['sinks', 'state', 'report'],
  running: ['pipeline', 'queue', 'session'],
  commands: ['cli'],
};

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles: every module can be read (and tested) on top of what it imports.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'base-imports-nothing',
      severity: 'error',
      comment: 'model/ and common/ are the vocabulary: they import no other part of phi-scan.',
      from: { path: folder(LAYERS.base) },
      to: { path: '^src/', pathNot: folder(LAYERS.base) },
    },
    {
      name: 'detection-stays-pure',
      severity: 'error',
      comment: 'Detection (findings, detectors, rules, engine) knows text, not mail, files, outputs or processes.',
      from: { path: folder(LAYERS.detection) },
      to: { path: folder([...LAYERS.reading, ...LAYERS.output, ...LAYERS.running, ...LAYERS.commands]) },
    },
    {
      name: 'reading-does-not-detect',
      severity: 'error',
      comment: 'Sources, MIME parsing and attachment text do not detect, write outputs or run scans.',
      from: { path: folder(LAYERS.reading) },
      to: { path: folder(['detectors', 'rules', 'engine', ...LAYERS.output, ...LAYERS.running, ...LAYERS.commands]) },
    },
    {
      name: 'sources-are-independent',
      severity: 'error',
      comment: 'A source reads mail: it does not extract attachments (the pipeline does).',
      from: { path: '^src/sources/' },
      to: { path: '^src/extract/' },
    },
    {
      name: 'outputs-do-not-run-scans',
      severity: 'error',
      comment: 'Sinks, the state store and reports take records; they do not read sources or run scans.',
      from: { path: folder(LAYERS.output) },
      to: { path: folder(['parse', 'extract', 'sources', ...LAYERS.running, ...LAYERS.commands]) },
    },
    {
      name: 'sinks-do-not-read-state',
      severity: 'error',
      comment:
        'Sinks render what they are given (report model, records). Known exception: the format registry (sinks/index.ts) ' +
        'gives library callers the rendered formats through an in-memory state store and report/ (docs/architecture.md).',
      from: { path: '^src/sinks/', pathNot: '^src/sinks/index[.]ts$' },
      to: { path: '^src/(state|report)/' },
    },
    {
      name: 'state-does-not-render',
      severity: 'error',
      comment:
        'The state store records and queries; it neither renders (sinks/) nor shapes reports (report/ builds on it).',
      from: { path: '^src/state/' },
      to: { path: '^src/(sinks|report)/' },
    },
    {
      name: 'pipeline-is-not-the-queue',
      severity: 'error',
      comment: 'The pipeline runs units wherever they are given (RemoteUnits); the queue builds on it, not the reverse.',
      from: { path: '^src/pipeline/' },
      to: { path: folder(['queue', 'session', ...LAYERS.commands]) },
    },
    {
      name: 'session-on-top',
      severity: 'error',
      comment: 'A session (session/) runs a scan with the pipeline, the queue, state and outputs: nothing under it imports it.',
      from: { path: '^src/', pathNot: '^src/(session|cli)/|^src/index[.]ts$' },
      to: { path: '^src/session/' },
    },
    {
      name: 'only-commands-use-the-cli',
      severity: 'error',
      comment: 'src/cli/ is the command line: nothing but src/cli/ imports it.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'one-registry-of-sources',
      severity: 'error',
      comment: 'Outside src/sources/, a source is reached through the registry (registry.ts, index.ts), never its own file.',
      from: { path: '^src/', pathNot: '^src/(sources|index[.]ts)' },
      to: { path: '^src/sources/', pathNot: '^src/sources/(registry|index|types|names|files)[.]ts$|^src/sources/[a-z]+/options[.]ts$|^src/sources/mbox-split[.]ts$' },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports is dead code (entry points and worker-thread files excepted).',
      from: {
        orphan: true,
        pathNot: ['^src/index[.]ts$', '^src/cli/main[.]ts$', '[.]d[.]ts$', '^src/pipeline/pool-worker[.]ts$', '^src/sources/imap/worker[.]ts$', '^src/extract/ocr-engine[.]ts$'],
      },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
