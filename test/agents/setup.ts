// Global setup of the agents suite: installs (or finds) the pinned agent CLIs once for all files, prints one line
// per agent that cannot run and why, and hands the outcome to the tests, which skip what is missing.
import type {TestProject} from 'vitest/node'
import {AGENTS, installAgent, type AgentName, type Installed} from './install.js'

/** The agents the suites drive today */
const DRIVEN: AgentName[] = ['codex', 'claudeCode']

declare module 'vitest' {
  export interface ProvidedContext {
    agents: Partial<Record<AgentName, Installed>>
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const agents: Partial<Record<AgentName, Installed>> = {}
  for (const name of DRIVEN) {
    const installed = await installAgent(name)
    agents[name] = installed
    if (!installed.ok) console.log(`agents: skipping the ${AGENTS[name].name} tests: ${installed.reason}`)
  }
  project.provide('agents', agents)
}
