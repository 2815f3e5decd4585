import chalk from 'chalk'

export const STATE_STYLE = {
  healthy: {symbol: '●', paint: chalk.green},
  cooling: {symbol: '◐', paint: chalk.yellow},
  unhealthy: {symbol: '✖', paint: chalk.red},
  disabled: {symbol: '○', paint: chalk.gray},
  skipped: {symbol: '○', paint: chalk.gray},
} as const

export type StyledState = keyof typeof STATE_STYLE

export function paintState(state: StyledState, text: string): string {
  return STATE_STYLE[state].paint(text)
}

export const dim = chalk.dim
export const ok = chalk.green
export const warn = chalk.yellow
export const bad = chalk.red
