import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {shortUuid} from '../core/pools/lookup.js'
import {parseProviderType} from '../core/pools/operations.js'
import {historyFileOf, readHistory} from '../core/usage/history-file.js'
import {COUNT_COLUMNS, GROUPINGS, parseSince, toCsv, usageReport, type UsageRow} from '../core/usage/report.js'
import {renderTable, type Column} from '../ui/table.js'

const HEADERS: Record<(typeof COUNT_COLUMNS)[number], string> = {
  requests: 'REQUESTS',
  inputTokens: 'INPUT',
  outputTokens: 'OUTPUT',
  cacheReadTokens: 'CACHE READ',
  cacheWriteTokens: 'CACHE WRITE',
  reasoningTokens: 'REASONING',
  estimatedTokens: 'ESTIMATED',
  totalTokens: 'TOTAL',
}

export default class Usage extends BaseCommand<typeof Usage> {
  static override summary = 'Show the tokens answers used, by instance, model or day'
  static override description = `Reads the daily history \`serve\` keeps beside the pool file (provider_pools.usage.json for provider_pools.json) and adds it up. Days are UTC days; --since counts whole days: 7d is today and the six days before, 24h starts at the beginning of the day 24 hours ago, 2026-11-01 starts that day.

TOTAL is input + cache read + cache write + output: INPUT is the input not read from or written to a cache, and reasoning is part of the output. ESTIMATED is the part of the total that aiclient estimated because the upstream reported no usage.`
  static override examples = [
    '<%= config.bin %> usage',
    '<%= config.bin %> usage --since 7d --by day',
    '<%= config.bin %> usage --by model --type claude-custom --since 2026-11-01',
    '<%= config.bin %> usage --since 24h --csv > usage.csv',
  ]
  static override enableJsonFlag = true
  static override flags = {
    since: Flags.string({description: 'only from this day on: 7d, 24h or 2026-11-01 (UTC days)'}),
    by: Flags.option({options: GROUPINGS, default: 'instance' as const, description: 'one line per …'})(),
    type: Flags.string({description: 'only this provider type'}),
    csv: Flags.boolean({description: 'print CSV instead of a table', exclusive: ['json']}),
  }

  async run() {
    const now = Date.now()
    const since = this.flags.since === undefined ? undefined : parseSince(this.flags.since, now)
    const type = this.flags.type === undefined ? undefined : parseProviderType(this.flags.type)
    const poolFile = (await this.poolsFile()).value
    const file = historyFileOf(poolFile)
    const report = usageReport(await readHistory(file), {since, by: this.flags.by, type})
    const names = this.flags.by === 'instance' ? await this.instanceNames() : new Map<string, string>()
    const label = (row: UsageRow) =>
      row === report.total ? 'total' : this.flags.by === 'instance' ? (names.get(row.key) ?? idLabel(row.key)) : row.key
    if (this.flags.csv) {
      process.stdout.write(
        toCsv(
          [this.flags.by, ...(this.flags.by === 'instance' ? ['name'] : []), ...COUNT_COLUMNS],
          report.rows.map((row) => [
            row.key,
            ...(this.flags.by === 'instance' ? [names.get(row.key) ?? ''] : []),
            ...COUNT_COLUMNS.map((column) => row[column]),
          ]),
        ),
      )
    } else if (!this.jsonEnabled()) {
      if (report.rows.length === 0) {
        this.log(`No token usage in ${file}${since ? ` since ${since}` : ''}${type ? ` for ${type}` : ''}.`)
      } else {
        const columns: Column<UsageRow>[] = [
          {header: this.flags.by.toUpperCase(), value: label, flexible: true},
          ...(this.flags.by === 'instance'
            ? [{header: 'TYPE', value: (row: UsageRow) => (row === report.total ? '' : typeOf(row.key))}]
            : []),
          ...COUNT_COLUMNS.map((column) => ({header: HEADERS[column], value: (row: UsageRow) => grouped(row[column])})),
        ]
        this.log(renderTable([...report.rows, report.total], columns, process.stdout.columns ?? 120))
      }
    }
    const {key: _total, ...total} = report.total
    return {
      file,
      since: report.since,
      by: report.by,
      type: type ?? null,
      rows: report.rows.map(({key, ...counts}) =>
        this.flags.by === 'instance'
          ? {instance: key, name: names.get(key) ?? null, type: typeOf(key), ...counts}
          : {[this.flags.by]: key, ...counts},
      ),
      total,
    }
  }

  /** Names of the instances the pool file holds now; removed ones are shown by their id. */
  private async instanceNames(): Promise<Map<string, string>> {
    const {instances} = await (await this.poolStore()).read()
    return new Map(instances.flatMap((i) => (i.name === null ? [] : [[i.id, i.name] as const])))
  }
}

function typeOf(id: string): string {
  return id.slice(0, id.indexOf('/'))
}

function idLabel(id: string): string {
  return shortUuid(id.slice(id.indexOf('/') + 1))
}

function grouped(value: number): string {
  return value.toLocaleString('en-US')
}
