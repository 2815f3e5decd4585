import {escapeControls} from '../escape.js'
import {UsageError} from '../errors.js'
import {instancePath} from './schema.js'
import type {PoolInstance} from './types.js'

const MIN_PREFIX = 6
/** A JSON path such as `openai-custom[3]`, which names one entry even when uuids repeat. */
const PATH_REF = /^([a-z][a-z-]*)\[(\d+)\]$/

export function shortUuid(uuid: string): string {
  return uuid.slice(0, 8)
}

/** For messages: the name is escaped, since it comes from a file anyone may have edited. */
export function describeInstance(instance: PoolInstance): string {
  return `${instance.type} ${escapeControls(instance.name ?? shortUuid(instance.uuid))} (${escapeControls(instance.uuid)})`
}

/** Finds one instance by its JSON path, full uuid, name, or a unique uuid prefix of at least six characters. */
export function findInstance(instances: PoolInstance[], ref: string): PoolInstance {
  const path = PATH_REF.exec(ref)
  if (path) {
    const found = instances.find((i) => i.type === path[1] && i.index === Number(path[2]))
    if (found) return found
    throw notFound(ref, '')
  }
  const exact = instances.filter((i) => i.uuid === ref)
  if (exact.length === 1) return exact[0]!
  if (exact.length > 1) {
    throw ambiguous(ref, exact, [
      `These entries share one uuid. Name the one you mean by its position, e.g. \`${instancePath(exact[1]!)}\`, or by its name.`,
      'Run `aiclient pool doctor --fix` to give each copy a uuid of its own.',
    ])
  }
  const named = instances.filter((i) => i.name === ref)
  if (named.length === 1) return named[0]!
  if (named.length > 1)
    throw ambiguous(ref, named, ['Give the uuid, a longer uuid prefix, or the position (e.g. `openai-custom[3]`).'])
  const prefixed = ref.length >= MIN_PREFIX ? instances.filter((i) => i.uuid.startsWith(ref)) : []
  const uuids = new Set(prefixed.map((i) => i.uuid))
  if (prefixed.length === 1) return prefixed[0]!
  if (prefixed.length > 1)
    throw ambiguous(ref, prefixed, [
      uuids.size > 1
        ? 'Give more of the uuid, or the full uuid.'
        : 'Name it by its position (e.g. `openai-custom[3]`) or by its name.',
    ])
  throw notFound(ref, ref.length < MIN_PREFIX ? ` A uuid prefix needs at least ${MIN_PREFIX} characters.` : '')
}

function notFound(ref: string, hint: string): UsageError {
  return new UsageError(`No instance matches "${ref}".${hint}`, {
    code: 'instance_not_found',
    suggestions: ['Run `aiclient pool list` to see the instances, their names and uuids.'],
  })
}

function ambiguous(ref: string, matches: PoolInstance[], suggestions: string[]): UsageError {
  return new UsageError(
    `"${ref}" matches ${matches.length} instances:\n${matches.map((m) => `  ${describeInstance(m)} at ${instancePath(m)}`).join('\n')}`,
    {code: 'ambiguous_instance', suggestions},
  )
}
