import { embedsError } from '../protocol/embeds.ts'

/**
 * GitHub's webhook payloads (http.md, GitHub mode): a `push` becomes one embed, posted as the
 * fixed author below; every other event is refused.
 */

export const GITHUB_AUTHOR = {
  id: 'github',
  name: 'GitHub',
  avatar: 'https://github.githubassets.com/images/modules/logos_page/GitHub-Mark.png',
} as const

/** Upstream's 0x24292e (2369838); http.md's decimal 2368814 is a typo of it. */
const GITHUB_DARK = 0x24292e
/** data.md §3.5's limit on `description`. */
const MAX_DESCRIPTION = 4096
const SHORT_SHA = 7
const BRANCH_PREFIX = 'refs/heads/'

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const text = (value: unknown) => (typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value))

/** A request is GitHub's when it names its event and the body has `repository` and `ref`. */
export const isGithubPayload = (event: string | null, body: Json): event is string =>
  Boolean(event) && body.repository !== undefined && body.ref !== undefined

/** `YYYY-MM-DDTHH:MM:SSZ`, UTC, whole seconds. */
const isoSeconds = (now: Date) => now.toISOString().replace(/\.\d+Z$/, 'Z')

/**
 * The push embed of http.md. Commit lines that would take the embed past the embed limits
 * (data.md §3.5) are left off from the end, so a big push still posts.
 */
export function pushEmbed(body: Json, now = new Date()): Json | { error: string } {
  const repository = isObject(body.repository) ? body.repository : {}
  const sender = isObject(body.sender) ? body.sender : {}
  const ref = text(body.ref)
  const branch = ref.startsWith(BRANCH_PREFIX) ? ref.slice(BRANCH_PREFIX.length) : ref
  const commits = Array.isArray(body.commits) ? body.commits.filter(isObject) : []
  const title = body.deleted
    ? `${branch} deleted`
    : body.created
      ? `${branch} created`
      : body.forced
        ? `${branch} force-pushed`
        : `${branch}: ${commits.length} commit${commits.length === 1 ? '' : 's'}`
  const embed: Json = {
    title,
    url: text(body.compare) || text(repository.html_url),
    color: GITHUB_DARK,
    author: { name: `${text(sender.login)} - ${text(repository.full_name)}`, url: text(repository.html_url), icon_url: text(sender.avatar_url) },
    timestamp: isoSeconds(now),
  }
  const lines = descriptionLines(commits)
  for (let kept = lines.length; kept >= 0; kept--) {
    const candidate = kept > 0 ? { ...embed, description: lines.slice(0, kept).join('\n') } : embed
    const problem = embedsError([candidate])
    if (!problem) return candidate
    if (kept === 0) return { error: problem }
  }
  return { error: 'Invalid push payload' }
}

/** One line per commit, as many as fit in a description; counting stops there, however long the push. */
function descriptionLines(commits: Json[]): string[] {
  const lines: string[] = []
  let length = -1
  for (const commit of commits) {
    const line = `[\`${text(commit.id).slice(0, SHORT_SHA)}\`](${text(commit.url)}) ${text(commit.message).split('\n')[0]}`
    length += [...line].length + 1
    if (length > MAX_DESCRIPTION) break
    lines.push(line)
  }
  return lines
}
