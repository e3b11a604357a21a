import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each e2e file starts its own redis-server processes; two cores, so two at a time.
    maxWorkers: 2,
    env: {NO_COLOR: '1', COLUMNS: '200'},
    // Two tiers (`npm run test:unit`, `npm run test:e2e`; `npm test` runs both). test/unit/tiers.test.ts keeps them apart.
    projects: [
      {extends: true, test: {name: 'unit', include: ['test/unit/**/*.test.ts']}},
      {extends: true, test: {name: 'e2e', include: ['test/e2e/**/*.test.ts']}},
    ],
  },
})
