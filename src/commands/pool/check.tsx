import {Args, Flags} from '@oclif/core'
import {render} from 'ink'
import {BaseCommand} from '../../base-command.js'
import {UsageError} from '../../core/errors.js'
import {runChecks, type CheckEntry} from '../../core/health/check.js'
import {Dispatchers} from '../../core/http/dispatchers.js'
import {shortUuid} from '../../core/pools/lookup.js'
import {parseProviderType} from '../../core/pools/operations.js'
import type {PoolInstance, ProviderType} from '../../core/pools/types.js'
import {createAdapters} from '../../core/providers/index.js'
import {escapeControls} from '../../core/escape.js'
import {describeQuota} from '../../core/quota/format.js'
import {parseDuration} from '../../core/text.js'
import {SIGNAL_EXIT, onTermination, terminatedBy} from '../../signals.js'
import {CheckProgress, verdict, type CheckRow} from '../../ui/CheckProgress.js'
import {renderTable} from '../../ui/table.js'
import {STATE_STYLE, dim} from '../../ui/theme.js'

export default class PoolCheck extends BaseCommand<typeof PoolCheck> {
  static override summary = 'Probe instances and record which work'
  static override description = `Sends each selected enabled instance a one-token generation (or, with --cheap, a free model-list call), in parallel, each within --timeout. Results are written to the pool file (isHealthy, errorCount reset on success, lastErrorTime, lastHealthCheckTime, lastErrorReason; a rate limit sets cooldownUntil instead of marking the instance unhealthy).

Where the vendor reports a quota, it is recorded in the instance's entry as \`quota\` (remaining share and count, limit, reset time, tier): Kiro's usage limits, Code Assist's user quota and tier, and the rate-limit headers of the OpenAI, Anthropic and Qwen answers. Reading it is best-effort: a quota endpoint that fails leaves the last reading in place and never fails the check. An instance whose quota is spent cools until the reset its vendor named.

Each instance is classified as healthy, or: auth (401/403), rate_limited (429), quota, server (5xx), network (refused, DNS, reset), timeout, model_not_found (404). Disabled instances are listed as skipped and never contacted. Exit 0 when every checked instance is healthy, 1 when any is not. Ctrl-C, SIGTERM and SIGHUP stop the check, record the results it has, and exit 130, 143 and 129.`
  static override examples = [
    '<%= config.bin %> pool check',
    '<%= config.bin %> pool check --type claude-custom --cheap',
    '<%= config.bin %> pool check work 2f579c65 --timeout 5s',
    "<%= config.bin %> pool check --json | jq -r '.[] | select(.healthy | not) | .uuid'",
  ]
  static override enableJsonFlag = true
  static override strict = false
  static override args = {
    instance: Args.string({description: 'uuid, uuid prefix or name (several allowed; default: all)'}),
  }
  static override flags = {
    type: Flags.string({description: 'only instances of this provider type'}),
    timeout: Flags.string({description: 'per-instance deadline (15s, 1500ms, 1m)', default: '15s'}),
    concurrency: Flags.integer({description: 'instances probed at once', default: 4, min: 1}),
    model: Flags.string({description: 'model to probe with (default: checkModelName, then the per-type default)'}),
    cheap: Flags.boolean({description: 'use a free probe (model list) instead of a one-token generation'}),
  }

  async run(): Promise<CheckEntry[]> {
    const type = this.flags.type === undefined ? undefined : parseProviderType(this.flags.type)
    const timeoutMs = parseDuration(this.flags.timeout)
    if (!timeoutMs)
      throw new UsageError(`--timeout "${this.flags.timeout}" is not a duration such as 15s, 1500ms or 1m.`, {
        code: 'bad_flag',
      })
    const config = (await this.configJson()).values
    const store = await this.poolStore()
    const refs = this.positionals
    const dispatchers = new Dispatchers({
      connectMs: Math.min(timeoutMs, 10_000),
      headersMs: timeoutMs,
      idleMs: timeoutMs,
    })
    const live = this.canRenderLive()
    const progress = live ? liveProgress() : undefined
    const label = (i: {type: ProviderType; name: string | null; uuid: string}) =>
      `${i.type} ${shortUuid(i.uuid)}${i.name ? ` ${i.name}` : ''}`
    // Ctrl-C, SIGTERM or a closed terminal stop the check but keep what it found: probes spend quota.
    const cancel = new AbortController()
    const stopWatching = onTermination(() => cancel.abort())
    let entries: CheckEntry[]
    try {
      entries = await runChecks(store, createAdapters(dispatchers, store), {
        signal: cancel.signal,
        refs: refs.length > 0 ? refs : undefined,
        type,
        timeoutMs,
        concurrency: this.flags.concurrency,
        model: this.flags.model,
        cheap: this.flags.cheap || config.HEALTH_CHECK_CHEAP === true,
        defaultModels: (config.HEALTH_CHECK_MODELS ?? {}) as Partial<Record<ProviderType, string>>,
        onStart: (instance) => progress?.start(instance, label(instance)),
        onResult: (entry, instance) => {
          if (progress) progress.finish(instance, entry, label(entry))
          else if (!this.jsonEnabled())
            this.log(
              `${STATE_STYLE[entry.state].symbol} ${escapeControls(label(entry))} ${verdict(entry)}${entry.quota ? ` · ${describeQuota(entry.quota, Date.now())}` : ''}${entry.error ? dim(` — ${escapeControls(entry.error)}`) : ''}`,
            )
        },
      })
    } finally {
      stopWatching()
      progress?.stop()
      await dispatchers.destroy()
    }
    if (live) this.log(`\n${summaryTable(entries)}`)
    if (!this.jsonEnabled()) this.log(summaryLine(entries))
    const signal = terminatedBy()
    if (signal) process.exitCode = SIGNAL_EXIT[signal]
    else if (entries.some((e) => e.state !== 'skipped' && !e.healthy)) process.exitCode = 1
    return entries
  }
}

function liveProgress() {
  const rows = new Map<string, CheckRow>()
  let frame = 0
  const view = () => <CheckProgress rows={[...rows.values()]} frame={frame} />
  const ink = render(view())
  const timer = setInterval(() => {
    frame++
    ink.rerender(view())
  }, 100)
  return {
    start(instance: PoolInstance, label: string) {
      rows.set(instance.id, {key: instance.id, label, result: 'running'})
      ink.rerender(view())
    },
    finish(instance: PoolInstance, entry: CheckEntry, label: string) {
      rows.set(instance.id, {key: instance.id, label, result: entry})
      ink.rerender(view())
    },
    stop() {
      clearInterval(timer)
      ink.rerender(view())
      ink.unmount()
    },
  }
}

function summaryTable(entries: CheckEntry[]): string {
  return renderTable(
    entries,
    [
      {header: 'TYPE', value: (e) => e.type},
      {header: 'NAME', value: (e) => e.name ?? '-', flexible: true},
      {header: 'UUID', value: (e) => shortUuid(e.uuid)},
      {
        header: 'STATE',
        value: (e) => `${STATE_STYLE[e.state].symbol} ${e.state}${e.reason ? `: ${e.reason}` : ''}`,
        color: (e, text) => STATE_STYLE[e.state].paint(text),
      },
      {header: 'STATUS', value: (e) => (e.status === null ? '-' : String(e.status))},
      {header: 'LATENCY', value: (e) => (e.latencyMs === null ? '-' : `${e.latencyMs}ms`)},
      {header: 'MODEL', value: (e) => e.model ?? '-'},
      // Compact, and before the error, which gives way first.
      ...(entries.some((e) => e.quota)
        ? [{header: 'QUOTA', value: (e: CheckEntry) => describeQuota(e.quota, Date.now(), true)}]
        : []),
      {header: 'ERROR', value: (e) => e.error ?? '', color: (_e, text) => dim(text), flexible: true},
    ],
    process.stdout.columns ?? 120,
  )
}

function summaryLine(entries: CheckEntry[]): string {
  const count = (state: CheckEntry['state']) => entries.filter((e) => e.state === state).length
  return `${count('healthy')} healthy, ${count('unhealthy')} unhealthy, ${count('cooling')} cooling, ${count('skipped')} skipped`
}
