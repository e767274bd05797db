import { InvalidArgumentError } from 'commander';

/** Parsers for option values: bad values become commander errors (one line, exit 2). */
export function intInRange(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

export function commaList(value: string, previous: string[] = []): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('must name at least one item');
  return [...previous, ...items];
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
