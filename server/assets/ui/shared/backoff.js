// The one reconnect policy of the widget and the console: exponential back-off from 0.5 s,
// doubling up to 15 s, with ±25 % jitter so that clients cut off together (a server restart)
// do not come back together; at least 10 s after the server closed for rate limiting (4429).

export const FIRST_DELAY_MS = 500;
export const MAX_DELAY_MS = 15000;
export const RATE_LIMITED_DELAY_MS = 10000;

/** Milliseconds to wait before reconnect attempt number `attempt` (0 = the first). */
export function reconnectDelay(attempt, closeCode) {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(attempt, 10));
  const delay = base * (0.75 + Math.random() / 2);
  return closeCode === 4429 ? Math.max(delay, RATE_LIMITED_DELAY_MS) : delay;
}
