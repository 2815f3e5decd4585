import {Box, Text} from 'ink'
import {escapeControls} from '../core/escape.js'
import type {CheckEntry} from '../core/health/check.js'
import {STATE_STYLE} from './theme.js'

export interface CheckRow {
  key: string
  label: string
  result: CheckEntry | 'waiting' | 'running'
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

const COLORS = {healthy: 'green', cooling: 'yellow', unhealthy: 'red', skipped: 'gray'} as const

/** One line per instance while `pool check` runs: a spinner, then the verdict as it arrives. */
export function CheckProgress({rows, frame}: {rows: CheckRow[]; frame: number}) {
  const done = rows.filter((r) => typeof r.result !== 'string').length
  return (
    <Box flexDirection="column">
      <Text bold>
        Checking {rows.length} instance{rows.length === 1 ? '' : 's'} ({done} done)
      </Text>
      {rows.map((row) => {
        // Labels carry instance names from the pool file.
        const label = escapeControls(row.label)
        if (row.result === 'waiting') return <Text key={row.key} dimColor>{`  · ${label}`}</Text>
        if (row.result === 'running')
          return <Text key={row.key}>{`  ${SPINNER[frame % SPINNER.length]} ${label}`}</Text>
        const entry = row.result
        return (
          <Text key={row.key} color={COLORS[entry.state]}>
            {`  ${STATE_STYLE[entry.state].symbol} ${label}  ${verdict(entry)}`}
          </Text>
        )
      })}
    </Box>
  )
}

export function verdict(entry: CheckEntry): string {
  const reason = entry.reason ? `: ${entry.reason.replaceAll('_', ' ')}` : ''
  const latency = entry.latencyMs === null ? '' : ` ${entry.latencyMs}ms`
  return `${entry.state}${reason}${latency}`
}
