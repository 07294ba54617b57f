// Waiting helpers shared by the page objects and the tests.

/** How long a single wait (a selector, a text, a value) may take before the test fails. */
export const WAIT_MS = Number(process.env.UI_TEST_WAIT_MS || 10_000);

/**
 * Polls `probe` (async, returns a value) until `ok(value)` holds; fails after WAIT_MS with
 * the description and the last value seen. Waits on the page's state, never a fixed sleep.
 */
export async function until(probe, ok, description, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await probe();
      lastError = undefined;
      if (ok(last)) return last;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const seen = lastError ? `error ${lastError.message}` : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}; last seen: ${seen}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Text with whitespace collapsed. */
export function squash(s) {
  return (s || '').replace(/\s+/g, ' ').trim();
}
