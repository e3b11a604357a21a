// typescript-eslint through oclif's shared config (eslint-config-oclif 6: the newest line that runs on
// Node 20), with prettier owning layout. The rules turned off below fight choices this code makes on
// purpose; each says which.
import oclif from 'eslint-config-oclif'
import prettier from 'eslint-config-prettier/flat'

export default [
  {ignores: ['dist/**', 'node_modules/**', 'test/golden/**', 'test/oracle/**']},
  ...oclif,
  prettier,
  {
    rules: {
      // Imports are grouped by hand (node, packages, ours) under each file's header comment, which the
      // fixer would move below the first import it sorts up.
      'perfectionist/sort-imports': 'off',
      // Object keys are output order (--json shapes, tables), class fields are initialisation order
      // (a field may read the one above it), and interfaces follow their objects: sorting by name would
      // change what users see or break construction. Names inside an import or export are still sorted.
      'perfectionist/sort-objects': 'off',
      'perfectionist/sort-object-types': 'off',
      'perfectionist/sort-interfaces': 'off',
      'perfectionist/sort-classes': 'off',
      'perfectionist/sort-union-types': 'off',
      'perfectionist/sort-switch-case': 'off',
      'perfectionist/sort-enums': 'off',
      'perfectionist/sort-sets': 'off',
      'perfectionist/sort-variable-declarations': 'off',
      'perfectionist/sort-heritage-clauses': 'off',
      // Round trips in order are the point: a batch is sent after the one before it answered (backpressure).
      'no-await-in-loop': 'off',
      // The RESP framer, the series index and the CRC of key hashes work on bytes and words.
      'no-bitwise': 'off',
      // The exporter's wire names (updated_at, original_key, multiprocess_mode) are Python's.
      camelcase: 'off',
      // Layout is prettier's.
      '@stylistic/padding-line-between-statements': 'off',
      '@stylistic/lines-between-class-members': 'off',
      // Escapes of control characters are the subject of render/safe-text.ts and its tests.
      'no-control-regex': 'off',
      'unicorn/escape-case': 'off',
      'unicorn/no-hex-escape': 'off',
      'unicorn/prefer-string-raw': 'off',
      'unicorn/prefer-code-point': 'off',
      // vitest, not mocha: describe blocks nest and hooks sit at the top of a file.
      'mocha/max-top-level-suites': 'off',
      'mocha/no-top-level-hooks': 'off',
      'mocha/consistent-spacing-between-blocks': 'off',
      'mocha/no-setup-in-describe': 'off',
      'mocha/no-mocha-arrows': 'off',
      // A CLI's entry point and the bench scripts end the process with an exit code on purpose.
      'n/no-process-exit': 'off',
      'unicorn/no-process-exit': 'off',
      // `undefined` spelled out documents an absent value in our data shapes.
      'unicorn/no-useless-undefined': 'off',
      // `void promise` marks a promise deliberately not awaited (handlers attached elsewhere).
      'no-void': 'off',
      // Hot loops index arrays by position on purpose (for-each would allocate a closure per call).
      'unicorn/no-array-for-each': 'off',
      'unicorn/no-array-callback-reference': 'off',
      // Node 20.19 has these builtins; the plugin's table lags.
      'n/no-unsupported-features/node-builtins': 'off',
      // Idioms this code uses on purpose: `new Promise((r) => setTimeout(r, ms))`, `(d) => (raw += d)`,
      // a reset in one statement (`a = b = 0`) in hot loops, `new Array(n)` to preallocate, reduce for sums.
      'no-promise-executor-return': 'off',
      'no-return-assign': 'off',
      'no-multi-assign': 'off',
      'unicorn/no-new-array': 'off',
      'unicorn/no-array-reduce': 'off',
      'unicorn/no-array-push-push': 'off',
      'unicorn/no-unreadable-array-destructuring': 'off',
      // if/else chains stay if/else: the fixer's switch statements read worse, not better.
      'unicorn/prefer-switch': 'off',
      'unicorn/switch-case-braces': 'off',
      // Helpers sit next to their one use (a test's fixtures, a walk's callbacks), not hoisted away from it.
      'unicorn/consistent-function-scoping': 'off',
      // chalk is imported by name (Chalk), to make instances that honour NO_COLOR per stream.
      'unicorn/import-style': 'off',
      // Measures, not rules: long parameter lists and branches are reviewed, not counted.
      'max-params': 'off',
      complexity: 'off',
      'jsdoc/require-yields': 'off',
      // Defaults that are objects, and reassigned parameters, where the code reads better that way.
      'unicorn/no-object-as-default-parameter': 'off',
      'unicorn/prefer-default-parameters': 'off',
      // prom-client's collect() callbacks run with `this` as the metric: the collector keeps itself in a const.
      'unicorn/no-this-assignment': 'off',
      '@typescript-eslint/no-this-alias': 'off',
      'no-new': 'off',
      // A flag a test's other callbacks flip while the loop awaits: a false positive of this rule.
      'no-unmodified-loop-condition': 'off',
      // vitest runs top-level it() as well as described ones.
      'mocha/no-global-tests': 'off',
    },
  },
]
