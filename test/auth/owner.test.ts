import { describe, expect, test } from 'bun:test'
import { isConfiguredOwner, ownerPatch } from '../../src/auth/owner.ts'
import { parseConfig } from '../../src/config/load.ts'
import type { AuthMode } from '../../src/config/schema.ts'
import type { UserRecord } from '../../src/store/types.ts'

const config = (auth_mode: AuthMode, name = 'Boss') => parseConfig({ auth_mode, server: { owner: { name } } })
const user = (id: string, username: string, roles: string[], extra: Partial<UserRecord> = {}): UserRecord => ({
  id,
  username,
  roles,
  status: { status: 'online', text: '' },
  extra: {},
  ...extra,
})
const rotur = (roles: string[] = ['user'], extra?: Partial<UserRecord>) => user('rotur-boss', 'boss', roles, extra)
const local = (roles: string[] = ['user'], extra?: Partial<UserRecord>) => user('USR:local_boss', 'USR:local_boss', roles, extra)

describe('isConfiguredOwner', () => {
  test('with Rotur the name means the Rotur account, case-insensitively; a local account of that name is someone else', () => {
    for (const mode of ['rotur', 'cracked'] as const) {
      expect(isConfiguredOwner(config(mode), rotur(), false)).toBe(true)
      expect(isConfiguredOwner(config(mode), local(), true)).toBe(false)
    }
  })

  test('in cracked-only mode it is the local account registered under the name', () => {
    expect(isConfiguredOwner(config('cracked-only'), local(), true)).toBe(true)
    expect(isConfiguredOwner(config('cracked-only'), rotur(), false)).toBe(false)
  })

  test('an empty name designates nobody', () => {
    expect(isConfiguredOwner(config('cracked', '  '), rotur(), false)).toBe(false)
    expect(isConfiguredOwner(config('cracked-only', ''), local(), true)).toBe(false)
  })
})

describe('ownerPatch', () => {
  test('the configured owner gets the role first in the list, marked as coming from the config', () => {
    expect(ownerPatch(config('cracked'), rotur(['user']), false)).toEqual({ roles: ['owner', 'user'], config_owner: true })
    expect(ownerPatch(config('cracked'), rotur(['owner', 'user'], { config_owner: true }), false)).toBeUndefined()
    // Already appointed by hand: only the mark is added.
    expect(ownerPatch(config('cracked'), rotur(['user', 'owner']), false)).toEqual({ roles: ['user', 'owner'], config_owner: true })
  })

  test('an owner by config loses the role once the config names someone else; appointed owners keep it', () => {
    const other = config('cracked', 'someone-else')
    expect(ownerPatch(other, rotur(['owner', 'user'], { config_owner: true }), false)).toEqual({ roles: ['user'], config_owner: undefined })
    expect(ownerPatch(other, rotur(['owner', 'user']), false)).toBeUndefined()
    expect(ownerPatch(other, rotur(['user'], { config_owner: true }), false)).toEqual({ config_owner: undefined })
  })

  test('a local account holding the owner name in a mode with Rotur loses a role it got from an older server', () => {
    expect(ownerPatch(config('cracked'), local(['owner', 'user']), true)).toEqual({ roles: ['user'], config_owner: undefined })
    expect(ownerPatch(config('cracked'), local(['user']), true)).toBeUndefined()
  })
})
