/**
 * `text` cut to at most `maxChars` characters and a note of how many more there were: how a
 * client's string is quoted back in a message or a log line, whatever its length.
 */
export function boundedText (text: string, maxChars: number): string {
  if (text.length <= maxChars) return text
  return `${text.slice(0, maxChars)}… [${text.length - maxChars} more characters]`
}
