/** Small pure pieces of the Graph source: spec parsing, Retry-After, backoff, the read-only guard. */
import type { Context } from '@microsoft/microsoft-graph-client';
import { describe, expect, it } from 'vitest';
import { parseGraphSpec } from '../../src/sources/graph.js';
import { backoffMs, parseRetryAfter, ReadOnlyGuard } from '../../src/sources/graph/http.js';

describe('graph spec', () => {
  it.each([
    ['graph://contoso.onmicrosoft.com', { tenant: 'contoso.onmicrosoft.com' }],
    ['graph://contoso.onmicrosoft.com/*', { tenant: 'contoso.onmicrosoft.com' }],
    ['graph://contoso.onmicrosoft.com/', { tenant: 'contoso.onmicrosoft.com' }],
    ['graph://0b3c0000-1111-2222-3333-444455556666/alice@contoso.com', { tenant: '0b3c0000-1111-2222-3333-444455556666', user: 'alice@contoso.com' }],
  ])('%s', (spec, expected) => expect(parseGraphSpec(spec)).toEqual(expected));
  it.each(['graph://', 'graph:contoso', 'graph://a b/x', 'graph://t/u/extra'])('rejects %s', (spec) => expect(() => parseGraphSpec(spec)).toThrow(/graph:\/\/TENANT|tenant/));
});

describe('Retry-After and backoff', () => {
  it('reads delta-seconds and HTTP dates (RFC 9110 §10.2.3)', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0')).toBe(0);
    const now = Date.parse('2024-01-01T10:00:00Z');
    expect(parseRetryAfter('Mon, 01 Jan 2024 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
  it('backs off exponentially with full jitter, capped', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      for (let i = 0; i < 50; i++) {
        const d = backoffMs(attempt, 500, 60_000);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(Math.min(60_000, 500 * 2 ** attempt));
      }
    }
  });
});

describe('read-only guard', () => {
  const through = async (method: string, url: string, body?: string): Promise<boolean> => {
    const guard = new ReadOnlyGuard();
    let sent = false;
    guard.setNext({ execute: async () => void (sent = true) });
    const context = { request: url, options: { method, ...(body !== undefined ? { body } : {}) } } as Context;
    await guard.execute(context).catch(() => {});
    return sent;
  };
  it('lets GETs and $batch of GETs through, nothing else', async () => {
    expect(await through('GET', 'https://graph.microsoft.com/v1.0/users')).toBe(true);
    expect(await through('POST', 'https://graph.microsoft.com/v1.0/$batch', JSON.stringify({ requests: [{ id: '1', method: 'GET', url: '/users' }] }))).toBe(true);
    expect(await through('POST', 'https://graph.microsoft.com/v1.0/$batch', JSON.stringify({ requests: [{ id: '1', method: 'DELETE', url: '/users/x/messages/y' }] }))).toBe(false);
    for (const m of ['DELETE', 'PATCH', 'PUT']) expect(await through(m, 'https://graph.microsoft.com/v1.0/users/x/messages/y')).toBe(false);
    expect(await through('POST', 'https://graph.microsoft.com/v1.0/users/x/sendMail', '{}')).toBe(false);
  });
});
