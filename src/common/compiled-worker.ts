/**
 * A worker thread's entry file beside the calling module once compiled (`dist/…/name.js`). Run
 * from the TypeScript sources (tsx, tests) there is none, and callers do the work on their own
 * thread instead.
 */
export function compiledWorker(moduleUrl: string, file: string): URL | undefined {
  return moduleUrl.endsWith('.js') ? new URL(file, moduleUrl) : undefined;
}
