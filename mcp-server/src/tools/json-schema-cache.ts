/**
 * The MCP SDK builds a server per request (stateless HTTP) and converts each tool's zod schemas to
 * JSON Schema through the Standard Schema `~standard.jsonSchema` hook every time it needs them. For the
 * large output schemas that conversion was about a sixth of a cached analyze_crypto call. A schema never
 * changes after definition, so its conversions are memoised per direction and options.
 */
import type { z } from 'zod';

type Converter = (options?: Record<string, unknown>) => Record<string, unknown>;

export function withCachedJsonSchema<T extends z.ZodType>(schema: T): T {
  const std = schema['~standard'] as T['~standard'] & {
    jsonSchema?: { input: Converter; output: Converter };
  };
  const convert = std.jsonSchema;
  if (!convert) return schema;
  const cache = new Map<string, Record<string, unknown>>();
  const memo =
    (io: 'input' | 'output'): Converter =>
    (options) => {
      const key = `${io}:${JSON.stringify(options ?? {})}`;
      let result = cache.get(key);
      if (!result) {
        result = convert[io](options);
        cache.set(key, result);
      }
      return result;
    };
  Object.defineProperty(schema, '~standard', {
    value: { ...std, jsonSchema: { input: memo('input'), output: memo('output') } },
    configurable: true,
  });
  return schema;
}
