/**
 * The library's surface is what README documents, no more and no less: every
 * name src/index.ts exports (values and types, read by the TypeScript
 * compiler) is in README's "What it exports" list, and every name there is exported.
 */
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import ts from 'typescript'
import {expect, it} from 'vitest'

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url))

function exportedNames(): string[] {
  const index = root('src/index.ts')
  const program = ts.createProgram([index], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    skipLibCheck: true,
  })
  const checker = program.getTypeChecker()
  const module = checker.getSymbolAtLocation(program.getSourceFile(index)!)!
  return checker.getExportsOfModule(module).map((s) => s.name)
}

function documentedNames(): string[] {
  const readme = readFileSync(root('README.md'), 'utf8')
  const section = /^### What it exports\n([\s\S]*?)(?=^#)/m.exec(readme)
  expect(section, 'README has a "### What it exports" section').not.toBeNull()
  const items = section![1].split('\n').filter((line) => line.startsWith('- '))
  return items.flatMap((line) => [...line.matchAll(/`([A-Za-z_]\w*)`/g)].map((m) => m[1]))
}

it('src/index.ts exports exactly the names README lists', () => {
  const exported = exportedNames()
  const documented = documentedNames()
  expect(new Set(documented).size, 'a name is listed twice').toBe(documented.length)
  expect([...exported].sort()).toEqual([...documented].sort())
})
