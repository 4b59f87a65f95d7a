import { afterEach, expect, test } from 'bun:test'
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DATA_FILE_FOLDERS } from '../../src/backup/files.ts'
import { SharedFolders } from '../../src/cluster/shared-folders.ts'

let dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  dirs = []
})

async function dataFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'originchats-shared-'))
  dirs.push(dir)
  return dir
}

test('nodes with data folders of their own find each folder unshared with the other live nodes', async () => {
  const [a, b] = [new SharedFolders(await dataFolder(), 'node/a'), new SharedFolders(await dataFolder(), 'node-b')]
  a.mark()
  b.mark()
  expect(b.unshared(['node/a', 'node-b'])).toEqual(DATA_FILE_FOLDERS.map((folder) => ({ folder, nodes: ['node/a'] })))
  // Only live nodes count: a node gone from Redis is not looked for.
  expect(b.unshared(['node-b'])).toEqual([])
})

test('nodes whose file folders are the same (links to shared ones) find nothing missing; a clean stop takes the marker away', async () => {
  const shared = await dataFolder()
  const nodes: SharedFolders[] = []
  for (const name of ['a', 'b']) {
    const own = await dataFolder()
    for (const folder of DATA_FILE_FOLDERS) {
      await mkdir(join(shared, folder), { recursive: true })
      await symlink(join(shared, folder), join(own, folder))
    }
    nodes.push(new SharedFolders(own, name))
  }
  const [a, b] = nodes as [SharedFolders, SharedFolders]
  a.mark()
  b.mark()
  expect(a.unshared(['a', 'b'])).toEqual([])
  expect(b.unshared(['a', 'b'])).toEqual([])
  a.unmark()
  expect(await readdir(join(shared, 'attachments'))).toEqual(['.originchats-node-b'])
})
