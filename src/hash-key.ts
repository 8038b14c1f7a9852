import { randomBytes } from 'node:crypto'
import { text } from 'node:stream/consumers'
import { hashKey } from './access/client-keys.js'

/**
 * `npm run hash-key`: a new client key and its hash, or (with a key on standard input) the hash of
 * that key. Keys are read from standard input, never from arguments, which shell history keeps.
 */
const offered = process.stdin.isTTY ? '' : (await text(process.stdin)).trim()
const key = offered || `mor_${randomBytes(32).toString('base64url')}`
const hash = hashKey(key).toString('hex')
if (!offered) process.stdout.write(`key:  ${key}\n(give the key to the client; the router keeps only the hash)\n`)
process.stdout.write(`hash: ${hash}\n`)
