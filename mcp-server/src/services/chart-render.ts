/**
 * SVG charts to PNG through resvg (a Rust renderer shipped as a native Node module) with the system's
 * fonts. The module is loaded on first use: where its binary is missing or broken, PNG requests fail soft
 * to the SVG with a note, and nothing else is affected.
 */
import { createRequire } from 'node:module';
import { AppError } from '../errors.js';
import { log } from '../logger.js';

type ResvgModule = typeof import('@resvg/resvg-js');

const FONT_OPTIONS = {
  loadSystemFonts: true,
  defaultFontFamily: 'DejaVu Sans',
  sansSerifFamily: 'DejaVu Sans',
};

let loaded: { module: ResvgModule } | { error: string } | undefined;

function resvg(): ResvgModule | null {
  if (!loaded) {
    try {
      loaded = { module: createRequire(import.meta.url)('@resvg/resvg-js') as ResvgModule };
    } catch (err) {
      const error = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      log.warn('resvg unavailable: charts are served as SVG only', { error });
      loaded = { error };
    }
  }
  return 'module' in loaded ? loaded.module : null;
}

/** Whether PNG rendering works here. */
export function pngAvailable(): boolean {
  return resvg() !== null;
}

/** Why PNG is not available (the note callers attach), or null when it is. */
export function pngUnavailableReason(): string | null {
  resvg();
  return loaded && 'error' in loaded
    ? 'PNG rendering is unavailable on this server (the resvg module could not be loaded); the chart is SVG.'
    : null;
}

/** Renders an SVG document to PNG bytes, synchronously. DATA_UNAVAILABLE when resvg cannot be loaded. */
export function svgToPng(svg: string): Buffer {
  const mod = resvg();
  if (!mod) throw unavailable();
  return new mod.Resvg(svg, { font: FONT_OPTIONS, background: '#ffffff' }).render().asPng();
}

/** The same off the main thread (resvg renders on the libuv pool), for servers. */
export async function svgToPngAsync(svg: string): Promise<Buffer> {
  const mod = resvg();
  if (!mod) throw unavailable();
  return (await mod.renderAsync(svg, { font: FONT_OPTIONS, background: '#ffffff' })).asPng();
}

export interface RenderedChart {
  format: 'png' | 'svg';
  mimeType: 'image/png' | 'image/svg+xml';
  data: Buffer;
  /** Set when PNG was asked but SVG is returned. */
  note?: string;
}

/** The chart in the format asked; PNG falls back to SVG with a note when it cannot be rendered. */
export async function renderChart(svg: string, format: 'png' | 'svg'): Promise<RenderedChart> {
  const asSvg = (note?: string): RenderedChart => ({
    format: 'svg',
    mimeType: 'image/svg+xml',
    data: Buffer.from(svg, 'utf8'),
    ...(note !== undefined && { note }),
  });
  if (format === 'svg') return asSvg();
  const reason = pngUnavailableReason();
  if (reason) return asSvg(reason);
  try {
    return { format: 'png', mimeType: 'image/png', data: await svgToPngAsync(svg) };
  } catch (err) {
    log.error('chart rendering failed', { error: err });
    return asSvg('The PNG could not be rendered (the error was logged); the chart is SVG.');
  }
}

function unavailable(): AppError {
  return new AppError(
    'DATA_UNAVAILABLE',
    'PNG rendering is unavailable on this server (the resvg module could not be loaded); ask for SVG instead.',
  );
}
