// `npm run build`, after tsc: the bundled rules as YAML reads them, for the built loader to use
// while the rule files are unchanged (src/rules/load.ts says how the key makes a stale read
// impossible); and the shape automaton of their patterns (src/engine/shapes-cache.ts, same idea).
const { writeRulesCache, loadRules, BUNDLED_RULES_DIR, RULES_CACHE_FILE } = await import('../dist/rules/load.js');
const { shapedPatterns } = await import('../dist/engine/candidates.js');
const { writeShapesCache, SHAPES_CACHE_FILE } = await import('../dist/engine/shapes-cache.js');
if (!(await writeRulesCache())) {
  process.stderr.write(`rules cache: not written (a bundled rule file has YAML errors or warnings; phi-scan rules check says which)\n`);
} else {
  process.stdout.write(`rules cache: ${RULES_CACHE_FILE}\n`);
}
const shapes = await loadRules([BUNDLED_RULES_DIR]).then(
  ({ rules }) => shapedPatterns(rules).map((s) => s.shape),
  () => undefined,
);
if (!shapes || !(await writeShapesCache(shapes))) {
  process.stderr.write(`shapes cache: not written (the bundled rules do not load; phi-scan rules check says why)\n`);
} else {
  process.stdout.write(`shapes cache: ${SHAPES_CACHE_FILE}\n`);
}
