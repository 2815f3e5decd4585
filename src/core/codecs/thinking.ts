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
