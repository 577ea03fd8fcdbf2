import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withCachedJsonSchema } from '../../src/tools/json-schema-cache.js';
import { tools } from '../../src/tools/index.js';

describe('withCachedJsonSchema', () => {
  it('converts once per direction and options, with the same result as zod, and still validates', () => {
    const schema = z.object({ symbol: z.string().min(1), limit: z.number().int().default(500) });
    const expected = {
      input: schema['~standard'].jsonSchema.input({ target: 'draft-2020-12' }),
      output: schema['~standard'].jsonSchema.output({ target: 'draft-2020-12' }),
    };
    withCachedJsonSchema(schema);
    const std = schema['~standard'];
    const first = std.jsonSchema.input({ target: 'draft-2020-12' });
    expect(first).toEqual(expected.input);
    expect(std.jsonSchema.input({ target: 'draft-2020-12' })).toBe(first);
    expect(std.jsonSchema.output({ target: 'draft-2020-12' })).toEqual(expected.output);
    expect(std.jsonSchema.output({ target: 'draft-07' })).not.toBe(
      std.jsonSchema.output({ target: 'draft-2020-12' }),
    );
    expect(schema.safeParse({ symbol: '' }).success).toBe(false);
    expect(std.validate({ symbol: 'BTCUSDT' })).toEqual({ value: { symbol: 'BTCUSDT', limit: 500 } });
    expect(std.validate({ symbol: 1 })).toHaveProperty('issues');
  });

  it('applies to every tool schema', () => {
    for (const tool of tools) {
      const a = tool.output['~standard'].jsonSchema.output({ target: 'draft-2020-12' });
      expect(tool.output['~standard'].jsonSchema.output({ target: 'draft-2020-12' })).toBe(a);
    }
  });
});
