// The library API in one runnable file: `npm run build && node examples/library.mjs [SOURCE]`.
// Inside this checkout `phi-scan` resolves to the package itself (package.json "exports");
// in your project, `npm install phi-scan` and the same import works.
import { randomBytes } from 'node:crypto';
import { BUNDLED_RULES_DIR, createEngine, loadRules, scan } from 'phi-scan';

const source = process.argv[2] ?? 'mbox:fixtures/demo/mbox/billing.mbox';

// 1. Rules: the bundled folder, plus any folder of your own YAML rules.
const { rules, warnings } = await loadRules([BUNDLED_RULES_DIR]);
for (const w of warnings) console.error(`warning: ${w}`);

// 2. The fingerprint key: keep one secret key (resolveKey reads PHI_SCAN_KEY or the state folder)
//    to compare fingerprints between runs; a random key is fine for a one-off scan.
const key = randomBytes(32);

// 3. A sink receives every event as the scan goes: messages with their findings, errors, and
//    one record per mailbox. Findings carry masked values and keyed fingerprints only.
const perCategory = new Map();
const counter = {
  write(event) {
    if (event.type !== 'message') return;
    for (const f of event.outcome.findings) perCategory.set(f.category, (perCategory.get(f.category) ?? 0) + 1);
  },
  close() {},
};

const { summary, exitCode } = await scan({
  sources: [source],
  rules,
  key,
  minConfidence: 'medium',
  concurrency: 4,
  threads: 0, // on this thread; leave it out for worker threads (CPU cores - 1)
  maxMessageBytes: 50 * 1024 * 1024,
  maxNestingDepth: 5,
  sinks: [counter],
});
console.log(`${summary.messages} messages, ${summary.messagesWithPhi} with PHI, exit code ${exitCode}`);
for (const [category, n] of [...perCategory].sort()) console.log(`  ${category}: ${n}`);

// 4. The engine alone: mask identifiers in any text before it goes anywhere else.
const engine = createEngine(rules, key);
console.log(engine.redact('Patient DOB 03/14/1962, SSN 536-90-4399, member ID W123456789.'));
