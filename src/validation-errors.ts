import type { ErrorObject } from 'ajv'

/**
 * Turns Ajv errors into one sentence a person can act on, naming each field the way
 * they would write it (`messages[0].role`, `PORT`) rather than as a JSON pointer.
 */
export function describeValidationErrors (errors: ErrorObject[] | null | undefined): string {
  if (!errors?.length) return 'is invalid'
  const unique = new Set(errors.filter(isReportable).map(describeError))
  return [...unique].join('; ')
}

// `anyOf` and `if` report a summary on top of the errors of each branch; the branches say more.
function isReportable (error: ErrorObject): boolean {
  return error.keyword !== 'anyOf' && error.keyword !== 'if'
}

function describeError (error: ErrorObject): string {
  const path = fieldName(error.instancePath)
  switch (error.keyword) {
    case 'required':
      return `${joinField(path, error.params.missingProperty)} is required`
    case 'additionalProperties':
      return `${joinField(path, error.params.additionalProperty)} is not a known field`
    case 'enum':
      return `${path || 'value'} must be one of: ${(error.params.allowedValues as unknown[]).join(', ')}`
    case 'pattern':
    case 'format': {
      // Schemas compiled with `verbose` carry their own wording in `title` ("an http:// or https:// URL").
      const expected = error.parentSchema?.title as string | undefined
      return `${path || 'value'} ${expected ? `must be ${expected}` : error.message}`
    }
    default:
      return `${path || 'value'} ${error.message}`
  }
}

function fieldName (instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((name, segment) => /^\d+$/.test(segment) ? `${name}[${segment}]` : joinField(name, segment), '')
}

function joinField (parent: string, child: string): string {
  return parent ? `${parent}.${child}` : child
}
