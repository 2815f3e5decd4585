import type {IREffort, IRThinkingConfig} from './ir.js'

// Token budgets sent to Anthropic and Gemini 2.x when the client asked for an effort level (OpenAI
// `reasoning_effort`) or left the budget to the model. 24576 is Gemini 2.5 Flash's largest budget.
export const EFFORT_BUDGETS: Readonly<Record<IREffort, number>> = {minimal: 1024, low: 2048, medium: 8192, high: 24576}

export function thinkingBudget(config: IRThinkingConfig): number | undefined {
  switch (config.type) {
    case 'off':
      return undefined
    case 'auto':
      return EFFORT_BUDGETS.medium
    case 'budget':
      return config.budgetTokens
    case 'effort':
      return EFFORT_BUDGETS[config.effort]
  }
}

// Budgets are bucketed around the table above; `minimal` is never produced from a budget because only some
// OpenAI models accept it.
export function thinkingEffort(config: IRThinkingConfig): IREffort | undefined {
  switch (config.type) {
    case 'off':
      return undefined
    case 'auto':
      return 'medium'
    case 'effort':
      return config.effort
    case 'budget':
      return config.budgetTokens < 4096 ? 'low' : config.budgetTokens < 16384 ? 'medium' : 'high'
  }
}

// Where a protocol has a single reasoning text (OpenAI chat's `reasoning_content`, Kiro's `<thinking>`), separate
// thinking blocks are joined with a blank line, as Responses summary parts are, so that one's last sentence does
// not run into the next one's first.
export const THINKING_SEPARATOR = '\n\n'

export function joinThinking(texts: string[]): string {
  return texts.filter((text) => text !== '').join(THINKING_SEPARATOR)
}

/**
 * The same for a stream: `delta` gives the text to send for a thinking delta, with the separator before the first
 * text of every thinking block after one that had text (empty blocks, such as those holding only a signature,
 * add none). `apart` says the reader can now tell the thinking before from the thinking after without one.
 */
export function thinkingStream(): {blockStart(): void; apart(): void; delta(text: string): string} {
  let wrote = false
  let fresh = false
  return {
    blockStart: () => void (fresh = true),
    apart: () => void (wrote = false),
    delta(text) {
      if (text === '') return text
      const out = wrote && fresh ? THINKING_SEPARATOR + text : text
      wrote = true
      fresh = false
      return out
    },
  }
}
