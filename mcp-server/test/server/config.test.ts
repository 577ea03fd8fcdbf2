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
  it('rejects host names with a scheme, port or path, which would refuse every request', () => {
    expect(() =>
      loadConfig({ MCP_API_KEYS: 'k'.repeat(16), MCP_ALLOWED_HOSTS: 'mcp.example.com:443' }),
    ).toThrow(/MCP_ALLOWED_HOSTS.*host names only/s);
    expect(() => loadConfig({ MCP_ALLOWED_ORIGINS: 'https://app.example.com' })).toThrow(
      /MCP_ALLOWED_ORIGINS/,
    );
    expect(
      loadConfig({ MCP_API_KEYS: 'k'.repeat(16), MCP_ALLOWED_HOSTS: 'MCP.Example.com,[::1]' })
        .MCP_ALLOWED_HOSTS,
    ).toEqual(['mcp.example.com', '[::1]']);
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
  it.each([
    ['access_token=abc123&x=1', 'access_token=[redacted]&x=1'],
    ['client_secret: s3cr3t', 'client_secret: [redacted]'],
    ['{"apiKey":"k-123","symbol":"BTC"}', '{"apiKey":"[redacted]","symbol":"BTC"}'],
    ['Authorization: Basic dXNlcjpwYXNz', 'Authorization: Basic [redacted]'],
    ['redis://user:hunter2@cache:6379', 'redis://[redacted]@cache:6379'],
    ['To=whatsapp%3A%2B14155238886&Body=hi', 'To=[phone]&Body=hi'],
    ['send to +1 (415) 555-0100 now', 'send to [phone] now'],
  ])('redacts %s', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });
  it('redacts secret-named fields of any case or prefix', () => {
    expect(redact({ 'Proxy-Authorization': 'x', auth: 'y', X_API_KEY: 'z', accessToken: 't' })).toEqual({
      'Proxy-Authorization': '[redacted]',
      auth: '[redacted]',
      X_API_KEY: '[redacted]',
      accessToken: '[redacted]',
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
