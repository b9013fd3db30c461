import type { RenderMode } from './types.js';

export type ListrModule = typeof import('listr2');

/**
 * listr2 options per output mode. Progress always goes to stderr, so that stdout carries only the
 * result (a table, or JSON with --json). TTY: the live tree; plain: timestamped lines (CI).
 */
export function listrOptions(listr: ListrModule, mode: RenderMode): Record<string, unknown> {
  const logger = () =>
    new listr.ListrLogger({
      processOutput: new listr.ProcessOutput(process.stderr, process.stderr, { leaveEmptyLine: false }),
      useIcons: mode === 'tty',
      toStderr: [],
    });
  const base = { registerSignalListeners: false, exitOnError: true };
  if (mode === 'silent') return { ...base, renderer: 'silent', fallbackRenderer: 'silent' };
  if (mode === 'plain') {
    return {
      ...base,
      renderer: 'simple',
      fallbackRenderer: 'simple',
      rendererOptions: { logger: logger(), timestamp: listr.PRESET_TIMESTAMP, timer: listr.PRESET_TIMER },
    };
  }
  return {
    ...base,
    renderer: 'default',
    fallbackRenderer: 'simple',
    forceTTY: true,
    rendererOptions: { logger: logger(), collapseSubtasks: false, collapseErrors: false, timer: listr.PRESET_TIMER },
    fallbackRendererOptions: { logger: logger(), timestamp: listr.PRESET_TIMESTAMP },
  };
}
