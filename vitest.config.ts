import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts', 'test/**/*.test.tsx'],
    // The real agent CLIs run only in `npm run test:agents` (vitest.agents.config.ts).
    exclude: ['**/node_modules/**', 'test/agents/**'],
    environment: 'node',
    disableConsoleIntercept: true,
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Most files wait on sockets, child processes and timers rather than compute. Vitest's default, one worker per
    // core less one, runs them one at a time on a 2-core machine; more than one per core makes wall-clock checks late.
    maxWorkers: 2,
  },
})
