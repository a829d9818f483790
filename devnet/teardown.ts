/** A stack of cleanups run newest first; one that fails does not stop the rest. */
export function teardownStack() {
  const cleanups: (() => Promise<void>)[] = [];
  return {
    push(cleanup: () => Promise<void>) {
      cleanups.push(cleanup);
    },
    async runAll() {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch {
          // keep tearing down the rest
        }
      }
      cleanups.length = 0;
    },
  };
}
