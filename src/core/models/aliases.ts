import {PROVIDER_TYPES, isProviderType, type ProviderType} from '../pools/types.js'

/** Client model names (exact, or patterns with `*`) → the name the upstream is sent. */
export type AliasTable = Readonly<Record<string, string>>

/** `MODEL_ALIASES`: an alias table per provider type. */
export type ModelAliases = Partial<Record<ProviderType, AliasTable>>

/** One problem of an alias setting; `at` is appended to the setting's JSON path (`["claude-*"]`, or empty). */
export interface AliasProblem {
  at: string
  problem: string
}

interface Pattern {
  regex: RegExp
  prefix: number
  literal: number
  target: string
}

/** A table ready for lookups: exact names in a map, patterns most specific first. */
export interface CompiledAliases {
  exact: ReadonlyMap<string, string>
  patterns: readonly Pattern[]
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A model name with `*` standing for any run of characters, as a whole-name regular expression. */
export function namePattern(name: string): RegExp {
  return new RegExp(`^${name.split('*').map(escape).join('.*')}$`, 's')
}

/**
 * Exact names beat patterns. Among patterns the longest literal prefix (the text before the first `*`) wins, then
 * the most literal characters in all, then the one written first: `claude-opus-5-*` beats `claude-*` beats `*`.
 */
export function compileAliases(table: AliasTable): CompiledAliases {
  const exact = new Map<string, string>()
  const patterns: Pattern[] = []
  for (const [name, target] of Object.entries(table)) {
    if (!name.includes('*')) {
      exact.set(name, target)
      continue
    }
    patterns.push({
      regex: namePattern(name),
      prefix: name.indexOf('*'),
      literal: name.replaceAll('*', '').length,
      target,
    })
  }
  // Array#sort is stable: equally specific patterns keep the order they were written in.
  patterns.sort((a, b) => b.prefix - a.prefix || b.literal - a.literal)
  return {exact, patterns}
}

/** The upstream name for `model` by one table, or undefined when no entry matches. */
export function lookupAlias(aliases: CompiledAliases, model: string): string | undefined {
  const exact = aliases.exact.get(model)
  if (exact !== undefined) return exact
  return aliases.patterns.find((pattern) => pattern.regex.test(model))?.target
}

/** The names a fixed model picker can choose: the exact ones (a pattern names no model). */
export function aliasNames(aliases: CompiledAliases): string[] {
  return [...aliases.exact.keys()]
}

const TABLE_HINT = 'an object of model names (or patterns with *) to the model name the upstream is sent'

/** What is wrong with one name → name table (MODEL_ALIASES' per type, or an instance's `modelAliases`). */
export function aliasTableProblems(value: unknown): AliasProblem[] {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return [{at: '', problem: `must be ${TABLE_HINT}, not ${JSON.stringify(value)}`}]
  const problems: AliasProblem[] = []
  for (const [name, target] of Object.entries(value)) {
    const at = `[${JSON.stringify(name)}]`
    if (name.trim() === '') problems.push({at, problem: 'a model name must not be empty'})
    else if (typeof target !== 'string' || target.trim() === '')
      problems.push({at, problem: `must be the model name the upstream is sent, not ${JSON.stringify(target)}`})
    else if (target.includes('*'))
      problems.push({at, problem: `must be a model name, not the pattern ${JSON.stringify(target)}`})
  }
  return problems
}

/** What is wrong with a whole `MODEL_ALIASES` value: provider types as keys, a table for each. */
export function modelAliasesProblems(value: unknown): AliasProblem[] {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return [{at: '', problem: `must map provider types to ${TABLE_HINT}`}]
  const problems: AliasProblem[] = []
  for (const [type, table] of Object.entries(value)) {
    if (!isProviderType(type)) {
      problems.push({at: `.${type}`, problem: `is not a provider type (valid: ${PROVIDER_TYPES.join(', ')})`})
      continue
    }
    for (const problem of aliasTableProblems(table)) problems.push({...problem, at: `.${type}${problem.at}`})
  }
  return problems
}

/** The model the upstream is sent for `model`, by the tables of both levels; undefined when neither has it. */
export class ModelAliasResolver {
  private readonly byType: Partial<Record<ProviderType, CompiledAliases>> = {}
  /** Instance tables compiled once per version of the pool entry (a new read brings a new object). */
  private readonly instances = new WeakMap<object, CompiledAliases | null>()

  constructor(aliases: ModelAliases = {}) {
    for (const [type, table] of Object.entries(aliases) as [ProviderType, AliasTable][])
      this.byType[type] = compileAliases(table)
  }

  /** The instance's own `modelAliases` is consulted first: any entry of it (exact or pattern) beats the type's. */
  resolve(type: ProviderType, instanceTable: unknown, model: string): string | undefined {
    const own = this.instanceAliases(instanceTable)
    const target = own && lookupAlias(own, model)
    if (target !== undefined) return target
    const typeTable = this.byType[type]
    return typeTable && lookupAlias(typeTable, model)
  }

  /** Every exact alias name the type's requests may use, its instances' included. */
  names(type: ProviderType, instanceTables: readonly unknown[]): string[] {
    const tables = [this.byType[type], ...instanceTables.map((table) => this.instanceAliases(table))]
    return [...new Set(tables.flatMap((table) => (table ? aliasNames(table) : [])))]
  }

  private instanceAliases(table: unknown): CompiledAliases | undefined {
    if (!table || typeof table !== 'object') return undefined
    let compiled = this.instances.get(table)
    if (compiled === undefined) {
      // A malformed table is pool doctor's finding; serving ignores it rather than failing every request.
      compiled = aliasTableProblems(table).length > 0 ? null : compileAliases(table as AliasTable)
      this.instances.set(table, compiled)
    }
    return compiled ?? undefined
  }
}
