/**
 * Reads one line from standard input without echoing it when a person types at a terminal; from
 * a pipe (scripts, tests) it reads the first line as it is. Undefined when input ends first.
 */
export async function readSecret(prompt: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) return readLine()
  process.stderr.write(prompt)
  process.stdin.setRawMode(true)
  try {
    return await new Promise<string | undefined>((resolve) => {
      let typed = ''
      const onData = (chunk: Buffer) => {
        for (const char of chunk.toString('utf8')) {
          if (char === '\r' || char === '\n') return finish(typed)
          // Ctrl-C and Ctrl-D: the owner changed their mind.
          if (char === '\u0003' || char === '\u0004') return finish(undefined)
          typed = char === '\u007f' || char === '\b' ? [...typed].slice(0, -1).join('') : typed + char
        }
      }
      const finish = (value: string | undefined) => {
        process.stdin.off('data', onData)
        process.stdin.pause()
        process.stderr.write('\n')
        resolve(value)
      }
      process.stdin.on('data', onData)
      process.stdin.resume()
    })
  } finally {
    process.stdin.setRawMode(false)
  }
}

async function readLine(): Promise<string | undefined> {
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of Bun.stdin.stream()) {
    text += decoder.decode(chunk, { stream: true })
    const newline = text.indexOf('\n')
    if (newline >= 0) return text.slice(0, newline).replace(/\r$/, '')
  }
  return text === '' ? undefined : text
}
