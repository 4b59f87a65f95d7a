import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DATA_FILE_FOLDERS } from '../backup/files.ts'

const markerName = (nodeId: string) => `.originchats-node-${encodeURIComponent(nodeId)}`

/**
 * Marker files that tell whether the data folder's file folders (uploads, emojis, server assets,
 * push keys) are the same on every node, as a cluster needs (docs/cluster.md, "Files"): each node
 * leaves one named after itself in each folder, and looks for the other live nodes' markers.
 */
export class SharedFolders {
  constructor(
    private readonly dataDir: string,
    private readonly nodeId: string,
  ) {}

  mark() {
    for (const folder of DATA_FILE_FOLDERS) {
      const dir = join(this.dataDir, folder)
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, markerName(this.nodeId)), `${this.nodeId}\n`)
    }
  }

  /** Per folder, the other live nodes whose marker is missing here: that folder is not shared with them. */
  unshared(liveNodes: readonly string[]): Array<{ folder: string; nodes: string[] }> {
    const others = liveNodes.filter((node) => node !== this.nodeId)
    return DATA_FILE_FOLDERS.map((folder) => ({
      folder,
      nodes: others.filter((node) => !existsSync(join(this.dataDir, folder, markerName(node)))),
    })).filter(({ nodes }) => nodes.length > 0)
  }

  unmark() {
    for (const folder of DATA_FILE_FOLDERS) rmSync(join(this.dataDir, folder, markerName(this.nodeId)), { force: true })
  }
}
