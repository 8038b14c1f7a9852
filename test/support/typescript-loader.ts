import { enableCompileCache, registerHooks } from 'node:module'

// Preloaded by `npm test` (`--import`) in every test process and worker thread. Node itself compiles
// the TypeScript (`--experimental-transform-types`, for the sources' parameter properties) and keeps
// the compiled code in its compile cache, which the suite's processes share; tsx's hooks compile
// without it, a cost paid again by every test file.
enableCompileCache()

// Imports name the file tsc emits (`./app.js`); in a test the source beside it is the `.ts` file.
registerHooks({
  resolve (specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (err) {
      if (!specifier.endsWith('.js') || (err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context)
    }
  },
})
