import {Box, Text} from 'ink'
import {escapeControls} from '../../core/escape.js'
import {modelLabel, typeLabel} from '../../core/log.js'
import {DEFAULT_PRIORITY, DEFAULT_WEIGHT} from '../../core/pools/schema.js'
import type {StrategyName} from '../../core/pools/selector.js'
import type {ProviderType} from '../../core/pools/types.js'
import type {RequestRecord} from '../../core/proxy/types.js'
import {describeQuota} from '../../core/quota/format.js'
import {compactCount, relativeTime} from '../../core/text.js'
import {truncate} from '../table.js'
import {STATE_STYLE} from '../theme.js'
import type {BoardData, InstanceRowData} from './model.js'

export interface StatusBoardProps {
  data: BoardData
  width: number
  height: number
  selected: string | null
  filter: ProviderType | null
  help: boolean
}

const MIN_RECENT = 3

const STATE_COLOR = {healthy: 'green', cooling: 'yellow', unhealthy: 'red', disabled: 'gray'} as const

export const KEYS_HELP = [
  ['↑/↓', 'select an instance'],
  ['d', 'disable or enable the selected instance'],
  ['c', 'check the selected instance now'],
  ['r', 'reset the selected instance (healthy, errors 0)'],
  ['f', 'filter by provider type (cycles)'],
  ['s', "cycle the selected type's routing strategy (until serve stops)"],
  ['?', 'show or hide this help'],
  ['q, Ctrl-C', 'quit (finishes running requests, saves statistics)'],
] as const

function duration(ms: number): string {
  const s = Math.floor(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

interface Column {
  header: string
  width: number
}

/** Fixed-width columns after the name; the name and state columns share what the terminal leaves. */
const COLUMNS: readonly Column[] = [
  {header: 'STATE', width: 15},
  {header: 'INFL', width: 4},
  {header: 'REQS', width: 6},
  {header: 'ERRS', width: 5},
  {header: 'ERR%', width: 4},
  {header: 'P50', width: 6},
  {header: 'LAST', width: 7},
  {header: 'TOKEN', width: 8},
]

const PRIORITY: Column = {header: 'PRI', width: 4}
const WEIGHT: Column = {header: 'WT', width: 4}
const SESSIONS: Column = {header: 'SESS', width: 5}
const TOKENS: Column = {header: 'TOKENS', width: 6}
const TOKEN_RATE: Column = {header: 'TOK/S', width: 5}
/** `62% 3h12m`: what is left and when it refills. */
const QUOTA: Column = {header: 'QUOTA', width: 11}

/** The columns shown only while they say something: which ones a screen of rows needs. */
interface Optional {
  /** Priority and weight, while some instance has them set. */
  routing: boolean
  /** Sessions bound to each instance, while some instance has any. */
  sticky: boolean
  /** Tokens used and tokens per second, once some instance has used any. */
  tokens: boolean
  /** Quotas, once some vendor reported one. */
  quota: boolean
}

function optional(rows: readonly InstanceRowData[]): Optional {
  return {
    routing: rows.some((row) => row.priority !== DEFAULT_PRIORITY || row.weight !== DEFAULT_WEIGHT),
    sticky: rows.some((row) => row.sessions > 0),
    tokens: rows.some((row) => row.tokens > 0 || row.tokensPerSecond > 0),
    quota: rows.some((row) => row.quota !== null),
  }
}

/** Priority, weight and sessions go after the in-flight count, tokens after the errors; the quota goes last. */
function columnsOf({routing, sticky, tokens, quota}: Optional): readonly Column[] {
  return [
    ...COLUMNS.slice(0, 2),
    ...(routing ? [PRIORITY, WEIGHT] : []),
    ...(sticky ? [SESSIONS] : []),
    ...COLUMNS.slice(2, 5),
    ...(tokens ? [TOKENS, TOKEN_RATE] : []),
    ...COLUMNS.slice(5),
    ...(quota ? [QUOTA] : []),
  ]
}

function cells(row: InstanceRowData, now: number, {routing, sticky, tokens, quota}: Optional): string[] {
  return [
    `${STATE_STYLE[row.state].symbol} ${row.stateText}`,
    // Against the limit when there is one: `3/4` says how close the instance is to being passed by.
    row.concurrencyLimit > 0 ? `${row.inFlight}/${row.concurrencyLimit}` : String(row.inFlight),
    ...(routing ? [String(row.priority), String(row.weight)] : []),
    ...(sticky ? [String(row.sessions)] : []),
    String(row.requests),
    String(row.errors),
    row.errorRate === null ? '-' : `${Math.round(row.errorRate * 100)}%`,
    ...(tokens ? [compactCount(row.tokens), compactCount(row.tokensPerSecond)] : []),
    row.p50Ms === null ? '-' : milliseconds(row.p50Ms),
    row.lastUsed ? relativeTime(row.lastUsed, now) : '-',
    row.token ?? '-',
    ...(quota ? [describeQuota(row.quota, now, true)] : []),
  ]
}

const MIN_NAME = 15
const MAX_NAME = 32
const MAX_STATE = 28

/** Names, reasons, models and messages come from the pool file, clients and upstreams: escaped before measuring. */
function line(name: string, values: readonly string[], width: number, columns: readonly Column[]): string {
  const fixed = columns.reduce((sum, c) => sum + c.width + 1, 0)
  const spare = Math.max(0, width - fixed - 2 - MIN_NAME)
  // Wide terminals first show whole state reasons ("unhealthy: re-login needed…"), then longer names.
  const stateWidth = columns[0]!.width + Math.min(spare, MAX_STATE - columns[0]!.width)
  const nameWidth = Math.min(MAX_NAME, Math.max(8, width - fixed - 2 - (stateWidth - columns[0]!.width)))
  const widths = columns.map((c, i) => (i === 0 ? stateWidth : c.width))
  const parts = values.map((v, i) => truncate(escapeControls(v), widths[i]!).padEnd(widths[i]!))
  return truncate(
    `${truncate(escapeControls(name), nameWidth).padEnd(nameWidth)} ${parts.join(' ')}`.trimEnd(),
    width - 2,
  )
}

function milliseconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`
}

function recentLine(r: RequestRecord, width: number): string {
  const time = new Date(r.time).toISOString().slice(11, 19)
  const text = `${time} ${r.protocol} → ${typeLabel(r)}/${r.instance ?? '-'} ${modelLabel(r)} ${r.status} ${r.ms}ms${r.stream ? ' stream' : ''}${r.attempts > 1 ? ` (${r.attempts} tries)` : ''}`
  return truncate(escapeControls(text), width)
}

/** The whole `serve --watch` screen for one moment; everything it shows comes in through props. */
export function StatusBoard({data, width, height, selected, filter, help}: StatusBoardProps) {
  const rows = filter ? data.rows.filter((r) => r.type === filter) : data.rows
  const shown = optional(rows)
  const columns = columnsOf(shown)
  // Type headings take a line each; keep the selected instance in view by scrolling the list.
  const lines: Array<
    | {kind: 'type'; type: ProviderType; healthy: number; total: number; strategy: StrategyName}
    | {kind: 'row'; row: InstanceRowData}
  > = []
  for (const row of rows) {
    const last = lines.at(-1)
    if (!last || (last.kind === 'row' ? last.row.type : last.type) !== row.type) {
      const ofType = rows.filter((r) => r.type === row.type)
      lines.push({
        kind: 'type',
        type: row.type,
        healthy: ofType.filter((r) => r.state === 'healthy').length,
        total: ofType.length,
        strategy: row.strategy,
      })
    }
    lines.push({kind: 'row', row})
  }
  // One line short of the terminal: Ink redraws a frame as tall as the screen by clearing it, which flickers.
  const available = Math.max(4, height - 1 - 4)
  const wanted = help ? KEYS_HELP.length : Math.max(lines.length, 1)
  const listHeight = Math.max(1, Math.min(wanted, available - MIN_RECENT))
  const recentCount = available - listHeight
  const selectedLine = Math.max(
    0,
    lines.findIndex((l) => l.kind === 'row' && l.row.id === selected),
  )
  const first = Math.min(Math.max(0, selectedLine - listHeight + 1), Math.max(0, lines.length - listHeight))
  const visible = lines.slice(first, first + listHeight)
  const tokenRate = shown.tokens ? `  ${compactCount(data.tokensPerSecond)} tok/s` : ''
  const header = `aiclient ${data.url}  up ${duration(data.now - data.startedAt)}  ${data.requestsPerSecond.toFixed(1)} req/s${tokenRate}  total ${data.total}  errors ${data.failed}`
  const footer = `↑↓ select  d disable/enable  c check  r reset  f filter: ${filter ?? 'all'}  ? help  q quit`
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">
        {truncate(header, width)}
      </Text>
      {help ? (
        <Box flexDirection="column" height={listHeight + 1} overflow="hidden">
          <Text bold>Keys</Text>
          {KEYS_HELP.map(([key, text]) => (
            <Text key={key} wrap="truncate">
              {truncate(`  ${key.padEnd(10)} ${text}`, width)}
            </Text>
          ))}
        </Box>
      ) : (
        <Box flexDirection="column" height={listHeight + 1} overflow="hidden">
          <Text dimColor wrap="truncate">
            {`  ${line(
              'NAME',
              columns.map((c) => c.header),
              width,
              columns,
            )}`}
          </Text>
          {visible.length === 0 ? <Text dimColor>{`  no instances${filter ? ` of type ${filter}` : ''}`}</Text> : null}
          {visible.map((l) =>
            l.kind === 'type' ? (
              <Text key={`type:${l.type}`} bold wrap="truncate">
                {truncate(
                  `${l.type} (${l.healthy}/${l.total} healthy)${l.strategy === 'round-robin' ? '' : `  ${l.strategy}`}`,
                  width,
                )}
              </Text>
            ) : (
              <Text key={l.row.id} color={STATE_COLOR[l.row.state]} inverse={l.row.id === selected} wrap="truncate">
                {`${l.row.id === selected ? '›' : ' '} ${line(l.row.name, cells(l.row, data.now, shown), width, columns)}`}
              </Text>
            ),
          )}
        </Box>
      )}
      <Text wrap="truncate">
        <Text bold>Recent requests</Text>
        {data.message ? (
          <Text color="yellow">{`  ${truncate(escapeControls(data.message), Math.max(0, width - 17))}`}</Text>
        ) : null}
      </Text>
      <Box flexDirection="column" height={recentCount} overflow="hidden">
        {data.recent.slice(-recentCount).map((r, i) => (
          <Text
            key={`${r.time}-${i}`}
            color={r.status >= 500 || r.error ? 'red' : r.status >= 400 ? 'yellow' : undefined}
            wrap="truncate"
          >
            {recentLine(r, width)}
          </Text>
        ))}
      </Box>
      <Text dimColor wrap="truncate">
        {truncate(footer, width)}
      </Text>
    </Box>
  )
}
