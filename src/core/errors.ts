export const EXIT = {ok: 0, failure: 1, usage: 2, cancelled: 130} as const

export interface AppErrorOptions {
  exit?: number
  suggestions?: string[]
  code?: string
  /** Lines shown under the message in a terminal, such as the excerpt of a file around a syntax error. */
  excerpt?: string
  cause?: unknown
}

/** An error meant for the user: a complete sentence, an exit code, and what to try next. */
export class AppError extends Error {
  readonly exit: number
  readonly suggestions: string[]
  readonly code: string | undefined
  readonly excerpt: string | undefined

  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'AppError'
    this.exit = options.exit ?? EXIT.failure
    this.suggestions = options.suggestions ?? []
    this.code = options.code
    this.excerpt = options.excerpt
  }
}

export class UsageError extends AppError {
  constructor(message: string, options: Omit<AppErrorOptions, 'exit'> = {}) {
    super(message, {...options, exit: EXIT.usage})
    this.name = 'UsageError'
  }
}

export class CancelledError extends AppError {
  constructor(message = 'Cancelled.') {
    super(message, {exit: EXIT.cancelled, code: 'cancelled'})
    this.name = 'CancelledError'
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
