/** Library API: the same pipeline the CLI runs. */
export { scan, ORDER_BUDGET, type ScanOptions, type ScanResult, type Progress } from './pipeline/run.js';
export { scanMessage, type MessageOutcome, type MessageScanOptions } from './pipeline/scan-message.js';
export { createEngine, type Engine, type EngineHit } from './engine/engine.js';
export { loadRules, BUNDLED_RULES_DIR, parseRuleFile } from './rules/load.js';
export { compileRules, type Rule } from './rules/compile.js';
export { RuleFileSchema, type RuleFile } from './rules/schema.js';
export { createSource, SOURCES, type Source, type SourceOptions, type SourceDefinition } from './sources/index.js';
export { splitMbox, MboxSplitter } from './sources/mbox-split.js';
export { parseMessage } from './parse/mime.js';
export { createSink, FORMATS, type Format } from './sinks/index.js';
export { textOutput } from './sinks/output.js';
export type { ScanEvent, Sink, ScanSummary, FindingRecord, MessageRecord, MailboxRecord, ErrorRecord, RunRecord, RunStatus, StopReason } from './sinks/types.js';
export { resolveKey, resolveStateDir } from './findings/key.js';
export { ScanError } from './common/errors.js';
export * from './model/finding.js';
export type * from './model/message.js';
export type * from './model/segment.js';
export type * from './model/problem.js';
export { SEVERITY, severityOf } from './model/problem.js';
/** One scan as the CLI runs it (state store, outputs, queue) from one strict settings value. */
export { runSession, runScanSession, type SessionIO, type SessionStream } from './session/session.js';
export { ScanSettingsSchema, type ScanSettings, type ScanSettingsInput } from './pipeline/settings.js';
