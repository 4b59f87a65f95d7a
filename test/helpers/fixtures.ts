import type { RoleRecord } from '../../src/store/types.ts'

/** A role record to insert straight into the store, for tests that need a permission holder. */
export const customRole = (name: string, permissions: string[], position: number): RoleRecord => ({
  name,
  id: `${name}-id`,
  description: '',
  color: null,
  hoisted: false,
  permissions,
  self_assignable: false,
  category: null,
  position,
})
