// uvu's runner drops an error thrown by a hook: the file then only shows 0 passed. A set-up
// run through this prints its error before passing it on, so the reason is in the output.

/** `setUp` as a `test.before` hook that prints why it failed, naming the file's `suite`. */
export function reportingSetUp(suite: string, setUp: () => Promise<void>): () => Promise<void> {
  return async () => {
    await setUp().catch((e: unknown) => {
      console.error(`${suite}: setting up failed:`, e);
      throw e;
    });
  };
}
