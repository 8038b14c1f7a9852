/**
 * The local OpenAI-compatible upstream as a process of its own, as the real one is: the load
 * generator's pauses are then not the upstream's. Prints its base URL.
 */
import { FakeOpenAI } from '../test/support/fake-openai.js'

const upstream = await FakeOpenAI.start({ record: false })
process.stdout.write(`${upstream.baseURL}\n`)
