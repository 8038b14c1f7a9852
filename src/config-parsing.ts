import { readFile } from 'node:fs/promises'
import { type Static, type TSchema } from '@sinclair/typebox'
import { Ajv, type ValidateFunction } from 'ajv'
import { parse as parseYaml } from 'yaml'
import { ConfigError } from './errors.js'
import { describeValidationErrors } from './validation-errors.js'

export function isHttpUrl (value: string): boolean {
  return /^https?:\/\//i.test(value) && URL.canParse(value)
}

// Strict, unlike the environment's compiler: a misspelt field must be reported, not dropped.
const strictAjv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, formats: { 'http-url': isHttpUrl } })

/** A validator for structured config (JSON settings, the routing file, the clients file); unknown fields are errors. */
export function compileConfig<T extends TSchema> (schema: T): ValidateFunction<Static<T>> {
  return strictAjv.compile<Static<T>>(schema)
}

/**
 * Checks `value` against its schema; the error names each path inside it after `name`:
 * `DOWNSTREAM_MCP[1].url is required`, `ROUTER_CONFIG (routing.yaml): providers[0].baseURL ...`.
 */
export function checkConfig<T> (name: string, value: unknown, validate: ValidateFunction<T>, example?: string): T {
  if (validate(value)) return value
  const problems = describeValidationErrors(validate.errors)
  const separator = problems.startsWith('[') ? '' : ' '
  throw new ConfigError(`${name}${separator}${problems}${example ? `; expected ${example}` : ''}`)
}

/** A secret held in a file (Docker and Kubernetes secrets), without the trailing newline. */
export async function readSecretFile (setting: string, path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch (err) {
    throw cannotRead(setting, path, err)
  }
}

export function cannotRead (setting: string, path: string, err: unknown): ConfigError {
  return new ConfigError(`${setting} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}: ${path})`)
}

/**
 * A config file (YAML or JSON: YAML is a superset, so one parser reads both), checked against its
 * schema; errors read `Invalid configuration: ROUTER_CONFIG (routing.yaml): providers[1].baseURL ...`.
 */
export async function readConfigFile<T> (setting: string, path: string, validate: ValidateFunction<T>): Promise<T> {
  const name = `${setting} (${path}):`
  const text = await readFile(path, 'utf8').catch((err: unknown) => { throw cannotRead(setting, path, err) })
  let parsed: unknown
  try {
    parsed = parseYaml(text)
  } catch (err) {
    throw new ConfigError(`${name} is neither YAML nor JSON (${(err as Error).message.split('\n')[0]})`)
  }
  return checkConfig(name, parsed, validate)
}
