import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {parseProviderType} from '../../core/pools/operations.js'
import {shortUuid} from '../../core/pools/lookup.js'
import {persistedState} from '../../core/pools/live-instance.js'
import {DEFAULT_PRIORITY, DEFAULT_WEIGHT} from '../../core/pools/schema.js'
import type {PoolInstance} from '../../core/pools/types.js'
import {describeToken, readTokenSummary, type TokenSummary} from '../../core/oauth/token-summary.js'
import {describeQuota} from '../../core/quota/format.js'
import {storedQuota} from '../../core/quota/types.js'
import {maskSecrets} from '../../core/secrets.js'
import {compactCount, relativeTime} from '../../core/text.js'
import {totalOf} from '../../core/usage/totals.js'
import {renderTable} from '../../ui/table.js'
import {STATE_STYLE, dim} from '../../ui/theme.js'

export default class PoolList extends BaseCommand<typeof PoolList> {
  static override summary = 'List the instances in the pool'
  static override description =
    'Shows every instance with its state (healthy, cooling, unhealthy, disabled), counters, tokens used (input, cached input and output, when any instance has used some), priority and weight (when any instance has them set) and last error. Secrets are always masked. --json prints the full instances, each with its type, computed state, priority, weight, concurrencyLimit, queueLimit (0 is no limit) and tokenUsage (input, output, cacheRead, cacheWrite, reasoning, estimated and total).'
  static override examples = [
    '<%= config.bin %> pool list',
    '<%= config.bin %> pool list --type claude-custom',
    '<%= config.bin %> pool list --json | jq \'.[] | select(.state != "healthy") | .uuid\'',
  ]
  static override enableJsonFlag = true
  static override flags = {
    type: Flags.string({description: 'only this provider type'}),
  }

  async run() {
    const type = this.flags.type === undefined ? undefined : parseProviderType(this.flags.type)
    const store = await this.poolStore()
    const snapshot = await store.read()
    const now = Date.now()
    const instances = snapshot.instances.filter((i) => !type || i.type === type)
    const tokens = await Promise.all(instances.map((i) => readTokenSummary(i, now)))
    if (!this.jsonEnabled()) {
      if (instances.length === 0) {
        this.log(`No instances in ${store.file}${type ? ` of type ${type}` : ''}. Add one with \`aiclient pool add\`.`)
      } else {
        this.log(renderInstances(instances, tokens, now, process.stdout.columns ?? 120))
      }
    }
    return instances.map((i, n) => ({
      type: i.type,
      state: persistedState(i, now),
      ...(tokens[n] ? {token: tokens[n]} : {}),
      ...maskSecrets(i.raw),
      // The values routing uses, defaults filled in, whether or not the file spells them out.
      priority: i.priority,
      weight: i.weight,
      concurrencyLimit: i.concurrencyLimit,
      queueLimit: i.queueLimit,
      tokenUsage: {...i.tokens, total: totalOf(i.tokens)},
    }))
  }
}

function renderInstances(
  instances: PoolInstance[],
  tokens: Array<TokenSummary | null>,
  now: number,
  width: number,
): string {
  const tokenOf = new Map(instances.map((instance, n) => [instance, tokens[n]]))
  const tokenColumn = tokens.some((t) => t !== null)
  const quotaColumn = instances.some((i) => storedQuota(i.raw.quota) !== null)
  // Routing columns only once someone routes: a pool on the defaults keeps its table narrow.
  const routingColumns = instances.some((i) => i.priority !== DEFAULT_PRIORITY || i.weight !== DEFAULT_WEIGHT)
  const tokensColumn = instances.some((i) => totalOf(i.tokens) > 0)
  return renderTable(
    instances,
    [
      {header: 'TYPE', value: (i) => i.type},
      {header: 'NAME', value: (i) => i.name ?? '-', flexible: true},
      {header: 'UUID', value: (i) => shortUuid(i.uuid)},
      {
        header: 'STATE',
        value: (i) => {
          const state = persistedState(i, now)
          const reason = state === 'unhealthy' && i.lastErrorReason ? `: ${i.lastErrorReason}` : ''
          return `${STATE_STYLE[state].symbol} ${state}${reason}`
        },
        color: (i, text) => STATE_STYLE[persistedState(i, now)].paint(text),
      },
      ...(routingColumns
        ? [
            {header: 'PRIORITY', value: (i: PoolInstance) => String(i.priority)},
            {header: 'WEIGHT', value: (i: PoolInstance) => String(i.weight)},
          ]
        : []),
      {header: 'REQUESTS', value: (i) => String(i.usageCount)},
      {header: 'ERRORS', value: (i) => String(i.errorCount)},
      ...(tokensColumn ? [{header: 'TOKENS', value: (i: PoolInstance) => compactCount(totalOf(i.tokens))}] : []),
      {header: 'LAST USED', value: (i) => relativeTime(i.lastUsed, now)},
      {
        header: 'LAST ERROR',
        value: (i) =>
          i.lastErrorTime
            ? `${relativeTime(i.lastErrorTime, now)}${i.lastErrorReason ? ` (${i.lastErrorReason})` : ''}`
            : '-',
        color: (_i, text) => dim(text),
        flexible: true,
      },
      ...(tokenColumn
        ? [
            {
              header: 'TOKEN',
              value: (i: PoolInstance) => {
                const token = tokenOf.get(i)
                return token ? describeToken(token, now) : '-'
              },
              flexible: true,
            },
          ]
        : []),
      // A terminal too narrow for it goes without (`--json` has all of it).
      ...(quotaColumn
        ? [
            {
              header: 'QUOTA',
              value: (i: PoolInstance) => describeQuota(storedQuota(i.raw.quota), now),
              optional: true,
            },
          ]
        : []),
    ],
    width,
  )
}
