export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The samples of a Prometheus text exposition. */
export function parseExposition (text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line)
    if (!match) continue
    const [, name = '', labelText = '', value = ''] = match
    const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key = '', labelValue = '']) => [key, labelValue]))
    samples.push({ name, labels, value: Number(value) })
  }
  return samples
}

/** The value of the one sample named `name` whose labels include `labels`; 0 when there is none. */
export function sampleValue (samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const matching = samples.filter((sample) =>
    sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
  if (matching.length > 1) throw new Error(`${matching.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return matching[0]?.value ?? 0
}
