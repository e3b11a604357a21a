import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own redis-server processes; two cores, so two at a time.
    maxWorkers: 2,
    env: {NO_COLOR: '1', COLUMNS: '200'},
  },
})
