/** CONTRACT.md's JSONL records as strict zod schemas: no missing field, no renamed field. */
import { z } from 'zod';

const Category = z.enum(['ssn', 'medicare-id', 'date-of-birth', 'date-of-death', 'insurance', 'medical-record-number', 'health-condition']);
export const FindingRecord = z.strictObject({
  type: z.literal('finding'),
  source: z.string(),
  mailbox: z.string(),
  folder: z.string(),
  messageId: z.string().regex(/^<.+>$/),
  location: z.string().regex(/^(subject|body|attachment:.+)$/),
  rule: z.string(),
  category: Category,
  confidence: z.enum(['low', 'medium', 'high']),
  masked: z.string(),
  fingerprint: z.string().regex(/^[0-9a-f]{16}$/),
});
export const MessageRecord = z.strictObject({
  type: z.literal('message'),
  source: z.string(),
  mailbox: z.string(),
  folder: z.string(),
  messageId: z.string().regex(/^<.+>$/),
  date: z.string().datetime().nullable(),
  categories: z.array(Category),
  findings: z.number().int().positive(),
});
export const MailboxRecord = z.strictObject({
  type: z.literal('mailbox'),
  source: z.string(),
  mailbox: z.string(),
  messages: z.number().int().nonnegative(),
  messagesWithPhi: z.number().int().nonnegative(),
  byCategory: z.partialRecord(Category, z.number().int().positive()),
  errors: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  interrupted: z.literal(true).optional(),
});
export const ErrorRecord = z.strictObject({
  type: z.literal('error'),
  source: z.string(),
  mailbox: z.string().optional(),
  folder: z.string().optional(),
  messageId: z.string().optional(),
  location: z.string().optional(),
  error: z.string().min(1),
  code: z.string(),
  severity: z.enum(['skipped', 'failed']),
});
/** A scan's last record (always), or `report`'s last record when its run did not end normally (`run` id, no counts). */
export const RunRecord = z.strictObject({
  type: z.literal('run'),
  run: z.number().int().positive().optional(),
  status: z.enum(['complete', 'incomplete', 'interrupted', 'unfinished']),
  stoppedBy: z.enum(['signal', 'output-closed']).optional(),
  startedAt: z.string().datetime(),
  finishedAt: z.string().datetime().nullable(),
  messages: z.number().int().nonnegative().optional(),
  messagesWithPhi: z.number().int().nonnegative().optional(),
  errors: z.number().int().nonnegative().optional(),
  skipped: z.number().int().nonnegative().optional(),
  strict: z.boolean().optional(),
});
export const AnyRecord = z.discriminatedUnion('type', [FindingRecord, MessageRecord, MailboxRecord, ErrorRecord, RunRecord]);
