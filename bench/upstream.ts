/**
 * The local OpenAI-compatible upstream as a process of its own, as the real one is: the load
 * generator's pauses are then not the upstream's. Prints its base URL; ends on SIGTERM.
 */
import { FakeOpenAI } from '../test/support/fake-openai.js'

const upstream = await FakeOpenAI.start({ record: false })
process.stdout.write(`${upstream.baseURL}\n`)
process.once('SIGTERM', () => { upstream.close().finally(() => process.exit(0)) })
