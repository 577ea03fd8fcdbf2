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
  it('requires keys beyond loopback and rejects short keys', () => {
    expect(() => loadConfig({ MCP_HOST: '0.0.0.0' })).toThrow(/MCP_API_KEYS: required/);
    expect(() => loadConfig({ MCP_HOST: '0.0.0.0', MCP_API_KEYS: 'short' })).toThrow(/at least 16/);
    expect(loadConfig({ MCP_HOST: '0.0.0.0', MCP_API_KEYS: 'k'.repeat(32) }).requireAuth).toBe(true);
  });
});

describe('redact', () => {
  it('hides secrets by key name, bearer tokens and phone numbers in text', () => {
    expect(
      redact({
        authorization: 'Bearer abc',
        apiKey: 'xyz',
        nested: { token: 't' },
        msg: 'call +1 415 555 0100 with Bearer s3cr3t.tok',
      }),
    ).toEqual({
      authorization: '[redacted]',
      apiKey: '[redacted]',
      nested: { token: '[redacted]' },
      msg: 'call [phone] with Bearer [redacted]',
    });
  });
});
