import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { test } from 'node:test'
import { Ajv } from 'ajv'
import { tools } from '../../src/mcp/tools/index.js'
import { startInProcessStack } from '../support/app.js'

type SchemaNode = Record<string, unknown>

/**
 * Where a node has no type of its own nor alternatives that all have one: strict validators (the
 * Inspector's --strict) read such a node as a schema left unfinished. Its children are walked too.
 */
function untypedNodes (node: SchemaNode, path: string): string[] {
  const children: Array<[SchemaNode, string]> = []
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, SchemaNode>)) children.push([child, `${path}.properties.${name}`])
  if (node.items && typeof node.items === 'object') children.push([node.items as SchemaNode, `${path}.items`])
  if (node.additionalProperties && typeof node.additionalProperties === 'object') children.push([node.additionalProperties as SchemaNode, `${path}.additionalProperties`])
  const alternatives = ['anyOf', 'oneOf'].flatMap((keyword) => ((node[keyword] ?? []) as SchemaNode[]).map((child, index): [SchemaNode, string] => [child, `${path}.${keyword}[${index}]`]))
  const typed = node.type !== undefined || alternatives.length > 0
  return [
    ...(typed ? [] : [path]),
    ...[...children, ...alternatives].flatMap(([child, childPath]) => untypedNodes(child, childPath)),
  ]
}

test('every node of every tool\'s input and output schema has a type, or typed alternatives, and strict Ajv compiles them without a warning', async () => {
  const stack = await startInProcessStack({ READ_FILE_ROOT: tmpdir() })
  try {
    const { tools: listed } = await stack.client.listTools()
    assert.deepEqual(listed.map((tool) => tool.name).sort(), tools.map((tool) => tool.definition.name).sort(), 'every tool is listed')
    const untyped = listed.flatMap((tool) => [
      ...untypedNodes(tool.inputSchema, `${tool.name}.inputSchema`),
      ...(tool.outputSchema ? untypedNodes(tool.outputSchema, `${tool.name}.outputSchema`) : []),
    ])
    assert.deepEqual(untyped, [])

    // Ajv's defaults are strict: a client validating with them must get no warning either.
    const warnings: unknown[] = []
    const warn = (...args: unknown[]) => warnings.push(args)
    const strictAjv = new Ajv({ logger: { log: () => {}, warn, error: warn } })
    for (const tool of listed) {
      for (const schema of [tool.inputSchema, tool.outputSchema]) if (schema) strictAjv.compile(schema)
    }
    assert.deepEqual(warnings, [])
  } finally {
    await stack.close()
  }
})
