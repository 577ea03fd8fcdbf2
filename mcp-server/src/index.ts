/**
 * Public library API of crypto-mcp-server: the pure analysis core (indicators and smart-money
 * concepts over columnar candles) and the types needed to call it.
 */
export * from './core/candles.js';
export * from './errors.js';
