// Bounded polling for tests that wait on something outside their control (a scrape, a policy
// evaluation): no fixed sleeps, and a timeout that names what never happened.

/**
 * Poll `check` every 200 ms until it is true; throw naming `what` after `ms`. `what` may be a
 * function, read at the timeout, so the message can say what had happened by then.
 */
export async function until(what: string | (() => string), check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  // uvu does not print an error thrown in a hook, so say here what the setup waited for.
  const message = `timed out waiting for ${typeof what === 'function' ? what() : what}`;
  console.error(message);
  throw new Error(message);
}
