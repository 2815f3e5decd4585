import {escapeControls} from '../escape.js'
import {UsageError} from '../errors.js'
import type {PoolInstance} from './types.js'

const MIN_PREFIX = 6

export function shortUuid(uuid: string): string {
  return uuid.slice(0, 8)
}

/** For messages: the name is escaped, since it comes from a file anyone may have edited. */
export function describeInstance(instance: PoolInstance): string {
  return `${instance.type} ${escapeControls(instance.name ?? shortUuid(instance.uuid))} (${escapeControls(instance.uuid)})`
}

/** Finds one instance by full uuid, name, or a unique uuid prefix of at least six characters. */
export function findInstance(instances: PoolInstance[], ref: string): PoolInstance {
  const exact = instances.find((i) => i.uuid === ref)
  if (exact) return exact
  const named = instances.filter((i) => i.name === ref)
  if (named.length === 1) return named[0]!
  if (named.length > 1) throw ambiguous(ref, named)
  const prefixed = ref.length >= MIN_PREFIX ? instances.filter((i) => i.uuid.startsWith(ref)) : []
  if (prefixed.length === 1) return prefixed[0]!
  if (prefixed.length > 1) throw ambiguous(ref, prefixed)
  const hint =
    ref.length < MIN_PREFIX ? ` A uuid prefix needs at least ${MIN_PREFIX} characters.` : ''
  throw new UsageError(`No instance matches "${ref}".${hint}`, {
    code: 'instance_not_found',
    suggestions: ['Run `aiclient pool list` to see the instances, their names and uuids.'],
  })
}

function ambiguous(ref: string, matches: PoolInstance[]): UsageError {
  return new UsageError(
    `"${ref}" matches ${matches.length} instances:\n${matches.map((m) => `  ${describeInstance(m)}`).join('\n')}`,
    {code: 'ambiguous_instance', suggestions: ['Give more of the uuid, or the full uuid.']},
  )
}
