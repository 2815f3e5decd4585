// Client model names → the model ids Kiro accepts in `userInputMessage.modelId` (upstreams.md §7.2).
//
// Current Kiro ids are the Anthropic names with a dotted version (`claude-sonnet-4.5`); dated aliases map to
// the same id. Claude 3.7 Sonnet was only ever seen under its legacy CodeWhisperer id. Opus 4.1 follows the
// dotted rule although no client was seen sending it: mapping it to another Opus would bill the user for a
// model they did not ask for, and an account without it answers 400 INVALID_MODEL_ID, which the proxy treats
// as "model not available on this instance". Availability is per account, so the table is only a default:
// instances override entries through `kiroModelId`'s `overrides`.
export const KIRO_MODEL_IDS: Readonly<Record<string, string>> = {
  auto: 'auto',
  'claude-sonnet-4-6': 'claude-sonnet-4.6',
  'claude-sonnet-4-5': 'claude-sonnet-4.5',
  'claude-sonnet-4-5-20250929': 'claude-sonnet-4.5',
  'claude-sonnet-4': 'claude-sonnet-4',
  'claude-sonnet-4-0': 'claude-sonnet-4',
  'claude-sonnet-4-20250514': 'claude-sonnet-4',
  'claude-haiku-4-5': 'claude-haiku-4.5',
  'claude-haiku-4-5-20251001': 'claude-haiku-4.5',
  'claude-opus-4-8': 'claude-opus-4.8',
  'claude-opus-4-7': 'claude-opus-4.7',
  'claude-opus-4-6': 'claude-opus-4.6',
  'claude-opus-4-5': 'claude-opus-4.5',
  'claude-opus-4-5-20251101': 'claude-opus-4.5',
  'claude-opus-4-1': 'claude-opus-4.1',
  'claude-opus-4-1-20250805': 'claude-opus-4.1',
  'claude-3-7-sonnet-20250219': 'CLAUDE_3_7_SONNET_20250219_V1_0',
  'claude-3-7-sonnet-latest': 'CLAUDE_3_7_SONNET_20250219_V1_0',
}

// Overrides win; names already in Kiro form, and names nobody mapped, pass through unchanged so that the
// upstream decides (an unknown id is its 400 INVALID_MODEL_ID, a client fault). The exception is a well-formed
// Claude name of a known family that the table does not know yet (`claude-opus-5-5`, the default of a newer
// Claude Code): Kiro would refuse it, so it gets the newest model of that family, and `onFallback` hears of it.
export function kiroModelId(
  model: string,
  overrides: Readonly<Record<string, string>> = {},
  onFallback?: (model: string, id: string) => void,
): string {
  const known = lookup(overrides, model) ?? lookup(KIRO_MODEL_IDS, model)
  if (known !== undefined) return known
  const family = CLAUDE_NAME.exec(model)?.[1]
  const newest = family === undefined ? undefined : NEWEST_OF_FAMILY.get(family)
  if (newest === undefined) return model
  onFallback?.(model, newest)
  return newest
}

/** `claude-{family}-{major}[-{minor}][-{date}]`, the shape of every current Anthropic model name. */
const CLAUDE_NAME = /^claude-([a-z]+)-(\d{1,3})(?:-(\d{1,3}))?(?:-\d{8})?$/

/** The Kiro id of each family's highest version in the table. */
const NEWEST_OF_FAMILY: ReadonlyMap<string, string> = (() => {
  const best = new Map<string, {version: number; id: string}>()
  for (const [name, id] of Object.entries(KIRO_MODEL_IDS)) {
    const match = CLAUDE_NAME.exec(name)
    if (!match) continue
    const version = Number(match[2]) * 1000 + Number(match[3] ?? 0)
    const family = match[1]!
    if ((best.get(family)?.version ?? -1) < version) best.set(family, {version, id})
  }
  return new Map([...best].map(([family, {id}]) => [family, id]))
})()

// Context windows behind the usage estimate when Kiro reports only a percentage: Opus models 1M tokens,
// Sonnet and Haiku 200k (AIClient-2-API head's figures). Works on client names and Kiro ids alike.
export function kiroContextWindow(model: string | undefined): number {
  return model !== undefined && /opus/i.test(model) ? 1_000_000 : 200_000
}

// Own keys only: a client sending `constructor` as its model must not reach Object.prototype.
function lookup(table: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined
}
