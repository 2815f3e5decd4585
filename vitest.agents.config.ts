import {defineConfig} from 'vitest/config'

// `npm run test:agents`: the real agent CLIs, installed into a cache folder, driven through `aiclient serve`
// against the fake upstreams. Opt-in; skipped (not failed) when the CLIs cannot be installed.
export default defineConfig({
  test: {
    include: ['test/agents/**/*.test.ts'],
    environment: 'node',
    disableConsoleIntercept: true,
    globalSetup: ['test/agents/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
})
