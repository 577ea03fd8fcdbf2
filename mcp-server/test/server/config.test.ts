import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { redact } from '../../src/logger.js';

describe('loadConfig', () => {
  it('has working defaults with no environment at all', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      MCP_HOST: '127.0.0.1',
      MCP_PORT: 8080,
      DATA_SOURCE: 'auto',
      EXCHANGE: 'binance',
      requireAuth: false,
    });
  });
  it('parses lists and turns auth on when keys are set', () => {
    const c = loadConfig({
      MCP_API_KEYS: 'aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb',
      MCP_ALLOWED_HOSTS: 'a.example,b.example',
    });
    expect(c.MCP_API_KEYS).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
    expect(c.MCP_ALLOWED_HOSTS).toEqual(['a.example', 'b.example']);
    expect(c.requireAuth).toBe(true);
  });
  it('names every bad variable', () => {
    try {
      loadConfig({ MCP_PORT: 'eighty', DATA_SOURCE: 'maybe', EXCHANGE: 'Bin Ance' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      for (const v of ['MCP_PORT', 'DATA_SOURCE', 'EXCHANGE']) expect(msg).toContain(v);
    }
  });
  it('requires keys when a public host name is allowed, even on a loopback bind (behind a proxy)', () => {
    expect(() => loadConfig({ MCP_ALLOWED_HOSTS: 'mcp.example.com' })).toThrow(
      /MCP_ALLOWED_HOSTS publishes the server as mcp.example.com/,
    );
    expect(loadConfig({ MCP_ALLOWED_HOSTS: 'localhost' }).requireAuth).toBe(false);
  });
  it('requires keys beyond loopback and rejects short keys', () => {
    expect(() => loadConfig({ MCP_HOST: '0.0.0.0' })).toThrow(/MCP_API_KEYS: required/);
    expect(() => loadConfig({ MCP_HOST: '0.0.0.0', MCP_API_KEYS: 'short' })).toThrow(/at least 16/);
    expect(loadConfig({ MCP_HOST: '0.0.0.0', MCP_API_KEYS: 'k'.repeat(32) }).requireAuth).toBe(true);
  });
});

describe('redact', () => {
  it('hides secrets by key name, bearer tokens, inline tokens and international phone numbers', () => {
    expect(
      redact({
        authorization: 'Bearer abc',
        apiKey: 'xyz',
        nested: { token: 't', password: 'p' },
        msg: 'to whatsapp:+14155238886 and +44 (20) 7946 0958 with Bearer s3cr3t.tok?auth_token=abc&x=1',
      }),
    ).toEqual({
      authorization: '[redacted]',
      apiKey: '[redacted]',
      nested: { token: '[redacted]', password: '[redacted]' },
      msg: 'to [phone] and [phone] with Bearer [redacted]?auth_token=[redacted]&x=1',
    });
  });
  it('leaves timestamps, prices and ordinary field names alone', () => {
    const fields = {
      at: '2026-06-20T10:00:00.000Z',
      startTime: 'startTime=1750147200000',
      price: 63741.16,
      access: 'open',
    };
    expect(redact(fields)).toEqual(fields);
  });
  it('keeps a redacted stack for errors', () => {
    const out = redact(new Error('failed for +14155238886')) as { message: string; stack: string };
    expect(out.message).toBe('failed for [phone]');
    expect(out.stack).toContain('config.test');
    expect(out.stack).not.toContain('4155238886');
  });
});
