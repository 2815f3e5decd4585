/** What `check` returns while the awaited thing has not happened yet */
type NotYet = undefined | false

export interface PollOptions {
  timeoutMs?: number
  intervalMs?: number
  /** The error message on timeout; evaluated then, so it can show the latest state */
  failure?: () => string
}

/**
 * The suite's one poll loop: calls `check` until it returns something other than undefined or false, and
 * returns that. A check may throw to give up early (a process that exited).
 */
export async function poll<T>(check: () => T | NotYet | Promise<T | NotYet>, options: PollOptions = {}): Promise<T> {
  const {timeoutMs = 5000, intervalMs = 20} = options
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(options.failure?.() ?? `condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Polls until `predicate` holds */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  await poll(predicate, {timeoutMs, failure: () => `Timed out waiting for ${what}`})
}
