/**
 * Builds the single-file server binary: `bun run build` → dist/originchats.
 * `bun build.ts --outfile PATH` writes it elsewhere. Everything (config defaults, package.json
 * version, dependencies, the Bun runtime) is bundled in, so the build and the binary work offline.
 */
import { parseArgs } from 'node:util'
import { basename, dirname, join, resolve } from 'node:path'

const ROOT = import.meta.dir

/** Compiles src/cli.ts into a standalone executable at `outfile`; returns its absolute path. */
export async function buildBinary(outfile = join(ROOT, 'dist', 'originchats')): Promise<string> {
  const path = resolve(outfile)
  const result = await Bun.build({
    entrypoints: [join(ROOT, 'src', 'cli.ts')],
    // Bun.build writes to disk only with `outdir`; the executable's name goes in compile.outfile.
    outdir: dirname(path),
    minify: true,
    sourcemap: 'none',
    compile: {
      outfile: basename(path),
      // The server's behaviour comes from its config.json alone, never from the
      // bunfig.toml or .env of whatever folder it is started in.
      autoloadBunfig: false,
      autoloadDotenv: false,
    },
  })
  if (!result.success) {
    throw new AggregateError(result.logs, `build failed:\n${result.logs.map(String).join('\n')}`)
  }
  return path
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Bun.argv.slice(2), options: { outfile: { type: 'string' } } })
  try {
    const path = await buildBinary(values.outfile)
    console.log(`built ${path}`)
  } catch (error) {
    console.error((error as Error).message)
    process.exit(1)
  }
}
