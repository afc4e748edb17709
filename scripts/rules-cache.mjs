// `npm run build`, after tsc: the bundled rules as YAML reads them, for the built loader to use
// while the rule files are unchanged (src/rules/load.ts says how the key makes a stale read impossible).
const { writeRulesCache, RULES_CACHE_FILE } = await import('../dist/rules/load.js');
if (!(await writeRulesCache())) {
  process.stderr.write(`rules cache: not written (a bundled rule file has YAML errors or warnings; phi-scan rules check says which)\n`);
} else {
  process.stdout.write(`rules cache: ${RULES_CACHE_FILE}\n`);
}
