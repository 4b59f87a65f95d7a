import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary } from '../../build.ts'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import { TestClient } from '../helpers/client.ts'
import { authenticate, killAll, ROOT, ServerProcess } from '../helpers/process.ts'

/**
 * Runs the `sh` blocks of docs/deploy.md as written, in a temporary folder standing in for `/`,
 * so the page cannot drift from what the binary does. Only what needs root or a real systemd is
 * translated: `sudo` and `install -o/-g` are dropped, `useradd`, `daemon-reload` and `journalctl`
 * skipped, and `systemctl start/stop` run and stop the unit's ExecStart command.
 */

let root = ''

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'originchats-deploy-'))
  // Where the page's `install … dist/originchats` finds the binary.
  await buildBinary(join(root, 'dist', 'originchats'))
})

afterAll(async () => {
  await killAll()
  await rm(root, { recursive: true, force: true })
})

const OWNER = 'boss'
const PASSWORD = 'correct-horse'
/** The answers a person would give: everything else is Enter, which keeps the value in brackets. */
const SETUP_ANSWERS = ['--auth-mode', 'cracked-only', '--owner', OWNER, '--port', '0']

function codeBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].filter(([, lang]) => lang === language).map(([, , body]) => body!)
}

/** The doc's system paths, moved under the temporary root; anything else absolute is refused. */
function underRoot(line: string): string {
  const moved = line.replace(/(^|[\s"'=(])\/(etc|var|opt)\//g, `$1${root}/$2/`)
  for (const [, , path] of moved.matchAll(/(^|[\s"'=(])(\/[^\s"')]*)/g)) {
    if (!path!.startsWith(`${root}/`)) throw new Error(`docs/deploy.md: ${line}\n  touches ${path} outside the test's root`)
  }
  return moved
}

type Step = { line: string; kind: 'skip' | 'start' | 'stop' | 'shell' }

function translate(raw: string): Step | undefined {
  const line = raw.replace(/\s+#.*$/, '').trim()
  if (line === '') return undefined
  const plain = line.replace(/\bsudo (-u \S+ )?/g, '').replace(/\binstall (.*?)-o \S+ -g \S+ /, 'install $1')
  if (/^(useradd|journalctl|systemctl daemon-reload)\b/.test(plain)) return { line, kind: 'skip' }
  if (/^systemctl (enable --now|start) originchats$/.test(plain)) return { line, kind: 'start' }
  if (/^systemctl stop originchats$/.test(plain)) return { line, kind: 'stop' }
  if (plain.startsWith('systemctl')) throw new Error(`docs/deploy.md: no translation for ${line}`)
  return { line: underRoot(plain), kind: 'shell' }
}

/**
 * Plays the owner at setup's prompts: Enter for every question (its value in brackets), the
 * owner's password where one is asked. Resolves with everything the command printed.
 */
async function answerPrompts(proc: { stdin: { write(text: string): unknown; end(): unknown }; stdout: ReadableStream<Uint8Array> }) {
  const decoder = new TextDecoder()
  let printed = ''
  for await (const chunk of proc.stdout) {
    printed += decoder.decode(chunk, { stream: true })
    const lastLine = printed.slice(printed.lastIndexOf('\n') + 1)
    if (!lastLine.endsWith(': ')) continue
    proc.stdin.write(/password/i.test(lastLine) ? `${PASSWORD}\n` : '\n')
    // Nothing else is asked after this line; a prompt repeated with a new line would be answered again.
    printed += '\n'
  }
  proc.stdin.end()
  return printed
}

test('docs/deploy.md, run as written: install, set up, serve, sign in as the owner, back up, restore, upgrade', async () => {
  const doc = await Bun.file(join(ROOT, 'docs', 'deploy.md')).text()
  const execStart = codeBlocks(doc, 'ini')[0]?.match(/^ExecStart=(.+)$/m)?.[1]
  expect(execStart).toBeDefined()
  const steps = codeBlocks(doc, 'sh').flatMap((block) => block.split('\n').map(translate).filter((step) => step !== undefined))
  const etc = join(root, 'etc', 'originchats')
  const data = join(root, 'var', 'lib', 'originchats')
  const backups = join(root, 'var', 'backups', 'originchats')

  let server: ServerProcess | undefined
  const output: string[] = []
  /** Runs the page's commands up to and including the next one matching `until`. */
  async function runThrough(until: RegExp): Promise<void> {
    for (let step = steps.shift(); step; step = steps.shift()) {
      if (step.kind === 'start') server = await ServerProcess.start(underRoot(execStart!).split(' '), root)
      if (step.kind === 'stop') {
        server!.signal('SIGTERM')
        expect(await server!.exited).toBe(0)
      }
      if (step.kind === 'shell') {
        const setup = / setup /.test(step.line)
        const proc = Bun.spawn(['sh', '-c', setup ? `${step.line} ${SETUP_ANSWERS.join(' ')}` : step.line], {
          cwd: root,
          stdin: 'pipe',
          stdout: 'pipe',
          stderr: 'pipe',
        })
        const [stdout, stderr, code] = await Promise.all([answerPrompts(proc), new Response(proc.stderr).text(), proc.exited])
        expect({ line: step.line, code, stderr }).toEqual({ line: step.line, code: 0, stderr: '' })
        output.push(stdout)
      }
      if (until.test(step.line)) return
    }
    throw new Error(`docs/deploy.md has no command matching ${until}`)
  }
  const signIn = async (cmd: 'login') => {
    const client = await TestClient.connect(server!.url)
    const ready = await authenticate(client, { cmd, username: OWNER, password: PASSWORD })
    return { client, ready }
  }
  const history = async (client: TestClient) =>
    (await client.request({ cmd: 'messages_get', channel: 'general' })).messages.map((m: { content: string }) => m.content)

  await runThrough(/ setup /)
  // setup put the database where the unit's server will look for it, and named the owner.
  expect(existsSync(join(data, DATABASE_FILE))).toBe(true)
  expect((await Bun.file(join(etc, 'config.json')).json()).storage.data_dir).toBe(data)
  expect(output.at(-1)).toContain(`Created the local account "${OWNER}" with the password you chose.`)

  await runThrough(/systemctl enable --now/)
  expect(server!.dataDir).toBe(data)
  // setup made the owner's local account with the password typed at its prompt: nobody can take the name.
  const stranger = await TestClient.connect(server!.url)
  await expect(authenticate(stranger, { cmd: 'register', username: OWNER, password: 'stranger-danger' })).rejects.toThrow('Username already taken')
  await stranger.close()
  const owner = await signIn('login')
  expect(owner.ready.user.roles).toEqual(['owner', 'user'])
  // Its first sign-in is a join: the built-in welcome plugin greets it in #general.
  const welcome = `Welcome ${OWNER}! Thanks for joining the server.`
  await owner.client.next('message_new', (p) => p.message.content === welcome)
  await owner.client.request({ cmd: 'message_new', channel: 'general', content: 'in the backup' })

  await runThrough(/ backup /)
  const copies = (await readdir(backups)).sort()
  expect(copies).toEqual([expect.stringMatching(/^originchats-.+\.db$/), expect.stringMatching(/^originchats-.+\.files$/)])
  expect(output.at(-1)).toContain(`written to ${join(backups, copies[0]!)}`)
  await owner.client.request({ cmd: 'message_new', channel: 'general', content: 'after the backup' })
  expect(await history(owner.client)).toEqual([welcome, 'in the backup', 'after the backup'])
  await owner.client.close()

  // Restoring brings back the database as the backup had it.
  await runThrough(/systemctl start/)
  const restored = await signIn('login')
  expect(await history(restored.client)).toEqual([welcome, 'in the backup'])
  await restored.client.close()

  await runThrough(/systemctl start/)
  const upgraded = await signIn('login')
  expect(upgraded.ready.user.roles).toEqual(['owner', 'user'])
  await upgraded.client.close()
  expect(steps).toEqual([])
  server!.signal('SIGTERM')
  expect(await server!.exited).toBe(0)
})
