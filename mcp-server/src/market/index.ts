/** Market data layer: live exchanges through ccxt, the bundled offline snapshot, caching and resampling. */
export * from './cache.js';
export * from './ccxt-source.js';
export * from './market-data.js';
export * from './resample.js';
export * from './snapshot.js';
export * from './symbols.js';
export * from './timeframes.js';
export * from './types.js';
