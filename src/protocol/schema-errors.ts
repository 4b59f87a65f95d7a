import type { TSchema } from '@sinclair/typebox'
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors'

/** "string or null" rather than TypeBox's "Expected union value". */
function describeType(schema: TSchema): string {
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map(describeType).join(' or ')
  if (schema.const !== undefined) return JSON.stringify(schema.const)
  return typeof schema.type === 'string' ? schema.type : 'a valid value'
}

/** Turns the first TypeBox error into text a client author can act on. */
export function describeSchemaError(error: ValueError | undefined): string {
  if (!error) return 'Invalid request'
  const field = error.path.replace(/^\//, '').replaceAll('/', '.')
  if (field === '') return `Invalid request: ${error.message}`
  if (error.type === ValueErrorType.ObjectRequiredProperty) return `Missing field: ${field}`
  return `Invalid field '${field}': expected ${describeType(error.schema)}`
}
