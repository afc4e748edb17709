/** Sources describe themselves (issue 17): one registry; the queue's job grouping and limits come from it. */
import { describe, expect, it } from 'vitest';
import { SOURCES, SourceSettingsSchema, definitionOf } from '../../src/sources/registry.js';
import { ScanError } from '../../src/common/errors.js';

describe('source registry', () => {
  it('finds each scheme\'s definition; unknown schemes and missing paths are usage errors', () => {
    const cases: [string, string][] = [
      ['mbox:/a.mbox', 'mbox'],
      ['maildir:/m', 'maildir'],
      ['eml:/e', 'eml'],
      ['pst:/p.pst', 'pst'],
      ['imap://u@host', 'imap'],
      ['imaps://u@host:993/INBOX', 'imap'],
      ['graph://contoso.onmicrosoft.com/*', 'graph'],
    ];
    for (const [spec, name] of cases) expect(definitionOf(spec).name, spec).toBe(name);
    expect(() => definitionOf('gmail://x')).toThrow(ScanError);
    expect(() => definitionOf('gmail://x')).toThrow(/unknown source scheme 'gmail' \(mbox, maildir, eml, pst, imap, imaps, graph\)/);
    expect(() => definitionOf('mbox:')).toThrow(/missing path after 'mbox:'/);
    expect(() => definitionOf('archive.mbox')).toThrow(/a SOURCE is scheme:path/);
    expect(new Set(SOURCES.map((s) => s.name)).size).toBe(SOURCES.length);
  });

  it('queue capabilities: Graph groups a mailbox\'s units and limits per tenant; IMAP per host; archives none', () => {
    const graph = definitionOf('graph://Contoso.onmicrosoft.com/*');
    expect(graph.jobs).toBe('mailbox');
    expect(graph.listsUnitsOnWorker).toBe(true);
    expect(graph.limit('graph://Contoso.onmicrosoft.com/*', {})).toEqual({ key: 'graph:contoso.onmicrosoft.com', slots: 8 });
    expect(graph.rateKey('graph://Contoso.onmicrosoft.com/a@b')).toBe('graph-rate:contoso.onmicrosoft.com');
    const imap = definitionOf('imaps://u@Mail.Example.org');
    expect(imap.jobs).toBe('unit');
    expect(imap.limit('imaps://u@Mail.Example.org', { connectionsPerHost: 2 })).toEqual({ key: 'imap:mail.example.org:993', slots: 2 });
    expect(imap.limit('imap://u@mail.example.org:1143', undefined)).toEqual({ key: 'imap:mail.example.org:1143', slots: 4 });
    const mbox = definitionOf('mbox:/a.mbox');
    expect([mbox.jobs, mbox.listsUnitsOnWorker, mbox.limit('mbox:/a.mbox', {}), mbox.rateKey('mbox:/a.mbox')]).toEqual(['unit', false, undefined, undefined]);
  });

  it('each source\'s settings are strict plain data under its name', () => {
    expect(SourceSettingsSchema.safeParse({ imap: { folders: ['INBOX'] }, graph: { users: ['a@b'] } }).success).toBe(true);
    expect(SourceSettingsSchema.safeParse({ imap: { wireLog: 'x' } }).success).toBe(false);
    expect(SourceSettingsSchema.safeParse({ gmail: {} }).success).toBe(false);
    expect(SourceSettingsSchema.safeParse({ mbox: { extra: 1 } }).success).toBe(false);
  });
});
