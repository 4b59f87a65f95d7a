import { InvalidAnswer, type AskContext, type Question } from './questions.ts'

/** The owner's side of the conversation: prompts out, answer lines in (undefined once input ended). */
export interface Terminal {
  write(text: string): void
  readLine(): Promise<string | undefined>
  /** A line that is not shown as it is typed (a password). */
  readSecret(): Promise<string | undefined>
}

export class SetupError extends Error {}

/** Input ended (Ctrl-D) at a prompt: setup stops before writing anything. */
export class SetupCancelled extends Error {}

/** The next answer line; the end of input cancels setup rather than taking a default. */
async function answerLine(terminal: Terminal): Promise<string> {
  const line = await terminal.readLine()
  if (line !== undefined) return line
  terminal.write('\n')
  throw new SetupCancelled('input ended')
}

/**
 * Lines from a byte stream, one per call. Buffering whole lines (rather than readline's
 * question()) keeps answers that arrive before their prompt, as a pipe delivers them.
 */
export function lineReader(stream: () => ReadableStream<Uint8Array>): { readLine(): Promise<string | undefined>; close(): void } {
  let reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> } | undefined
  const decoder = new TextDecoder()
  const lines: string[] = []
  let pending = ''
  let ended = false
  return {
    async readLine() {
      // Opened on first use, so `setup --yes` never touches stdin.
      const source = (reader ??= stream().getReader())
      while (lines.length === 0 && !ended) {
        const { value, done } = await source.read()
        if (done) {
          ended = true
          pending += decoder.decode()
          if (pending !== '') lines.push(pending)
          pending = ''
        } else {
          const parts = (pending + decoder.decode(value, { stream: true })).split('\n')
          pending = parts.pop()!
          lines.push(...parts)
        }
      }
      return lines.shift()?.replace(/\r$/, '')
    },
    close() {
      reader?.cancel().catch(() => {})
    },
  }
}

/** Asks until the answer is valid; an empty answer takes the value shown in brackets. */
export async function ask<Q extends Question>(question: Q, ctx: AskContext, terminal: Terminal): Promise<ReturnType<Q['parse']>> {
  if (question.help) terminal.write(`${question.help(ctx)}\n`)
  for (;;) {
    const shown = question.shown(ctx)
    terminal.write(`${question.prompt}${shown === '' ? '' : ` [${shown}]`}: `)
    const text = (await answerLine(terminal)).trim() || shown
    try {
      return question.parse(text, ctx) as ReturnType<Q['parse']>
    } catch (error) {
      if (!(error instanceof InvalidAnswer)) throw error
      terminal.write(`  ${error.message}\n`)
    }
  }
}

/** Yes/no with a default, for the overwrite confirmation. */
export async function confirm(prompt: string, byDefault: boolean, terminal: Terminal): Promise<boolean> {
  for (;;) {
    terminal.write(`${prompt} (yes/no) [${byDefault ? 'yes' : 'no'}]: `)
    const word = (await answerLine(terminal)).trim().toLowerCase()
    if (word === '') return byDefault
    if (word === 'y' || word === 'yes') return true
    if (word === 'n' || word === 'no') return false
    terminal.write('  answer yes or no\n')
  }
}
