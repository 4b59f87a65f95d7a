import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors'

/** Turns the first TypeBox error into text a client author can act on. */
export function describeSchemaError(error: ValueError | undefined): string {
  if (!error) return 'Invalid request'
  const field = error.path.replace(/^\//, '').replaceAll('/', '.')
  if (field === '') return `Invalid request: ${error.message}`
  if (error.type === ValueErrorType.ObjectRequiredProperty) return `Missing field: ${field}`
  return `Invalid field '${field}': ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`
}
