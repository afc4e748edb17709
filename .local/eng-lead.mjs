import { readFileSync } from 'node:fs';
import { createEngine } from '../dist/engine/engine.js';
import { buildKeywordIndex, findKeywords } from '../dist/engine/keywords.js';
import { BUNDLED_RULES_DIR, loadRules } from '../dist/rules/load.js';
const KEY = Buffer.from('phi-scan bench key, not a secret');
const { rules } = await loadRules([BUNDLED_RULES_DIR]);
const only = process.env.RULES?.split(',');
const rs = only ? rules.filter((r) => only.includes(r.id)) : rules;
const e = createEngine(rs, KEY);
const segs = [];
let total = 0;
const file = process.argv[2] ?? '/work/shared/corpora/enron-sample/enron-sample.mbox';
const mbox = readFileSync(file, 'latin1');
for (const m of mbox.split(/\nFrom /)) {
  const i = m.indexOf('\n\n'); if (i < 0) continue;
  const t = m.slice(i + 2); segs.push({ location: 'body', item: 'body', format: 'text', text: t }); total += t.length;
}
const idx = buildKeywordIndex(rs);
const time = (f) => { const c0 = process.cpuUsage(); const n = f(); const c = process.cpuUsage(c0); return [(c.user + c.system) / 1e6, n]; };
const scanAll = () => { let n = 0; for (const s of segs) n += e.scan(s).length; return n; };
const kw = () => { let n = 0; for (const s of segs) n += findKeywords(idx, s.text).length; return n; };
scanAll(); kw();
for (let r = 0; r < Number(process.env.PASSES ?? 3); r++) {
  const [ts, hits] = time(scanAll); const [tk, kh] = time(kw);
  console.log(`${(total/1e6).toFixed(1)}MB engine ${(total/1e6/ts).toFixed(1)} MB/s hits=${hits} | keywords ${(total/1e6/tk).toFixed(1)} MB/s kwhits=${kh}`);
}
