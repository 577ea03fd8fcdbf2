/**
 * Serialises cached values for an out-of-process cache. Plain JSON loses the two types the services
 * cache besides plain data: the `Float64Array` columns of `Candles` (JSON turns them into index-keyed
 * objects) and `Date`s (turned into strings). Both are written as tagged objects here, so a
 * `CandleSeries` comes back exactly as it went in, bit for bit.
 *
 * - `Float64Array` → `{"$f64": base64}` of its raw bytes. The bytes are in the host's byte order, which is
 *   little-endian on every platform Node ships for (x86-64, arm64), so replicas agree. Base64 of the
 *   bytes is exact (no decimal round trip, NaN payloads and -0 kept) and far faster than number lists.
 * - `Date` → `{"$date": ISO string}` (an invalid date becomes `null`, as in JSON).
 * - Object keys that start with `$` are written with one more `$`, so data can never pass for a tag.
 * - Everything else follows JSON: `undefined`, functions and symbols are dropped from objects and become
 *   `null` in arrays, non-finite numbers become `null`, `toJSON` is honoured. A top-level `undefined`
 *   (a loader may legitimately cache it) is written as `{"$undefined":1}`.
 */

const F64 = '$f64';
const DATE = '$date';
const UNDEFINED = '$undefined';

export function encodeValue(value: unknown): string {
  if (value === undefined) return `{"${UNDEFINED}":1}`;
  return JSON.stringify(toJsonSafe(value, true));
}

export function decodeValue<T>(text: string): T {
  return fromJsonSafe(JSON.parse(text)) as T;
}

/** A JSON-safe copy of `value` with typed values tagged; `undefined` means "omit" (as in JSON). */
function toJsonSafe(value: unknown, topLevel = false): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      // Same failure as JSON.stringify: a cache must not silently change a value's type.
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'undefined':
    case 'function':
    case 'symbol':
      return topLevel ? null : undefined;
  }
  if (value instanceof Float64Array) {
    return { [F64]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : { [DATE]: value.toISOString() };
  }
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return toJsonSafe(withToJson.toJSON());
  if (Array.isArray(value)) {
    return value.map((item) => {
      const safe = toJsonSafe(item);
      return safe === undefined ? null : safe;
    });
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const safe = toJsonSafe((value as Record<string, unknown>)[key]);
    if (safe !== undefined) out[key.startsWith('$') ? '$' + key : key] = safe;
  }
  return out;
}

/** Reverses `toJsonSafe` on parsed JSON, in place where possible. */
function fromJsonSafe(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = fromJsonSafe(value[i]);
    return value;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const tag = keys[0]!;
    const payload = obj[tag];
    if (tag === F64 && typeof payload === 'string') return decodeFloat64(payload);
    if (tag === DATE && typeof payload === 'string') return new Date(payload);
    if (tag === UNDEFINED) return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key.startsWith('$$') ? key.slice(1) : key] = fromJsonSafe(obj[key]);
  return out;
}

function decodeFloat64(base64: string): Float64Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length % 8 !== 0) throw new Error('Corrupt Float64Array payload');
  // A decoded Buffer may sit at any offset of Node's shared pool; copying into a fresh, 8-byte aligned
  // buffer is required for a Float64Array view (and keeps the pool from being retained).
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
