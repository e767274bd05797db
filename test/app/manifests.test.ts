import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const readYaml = (file: string) => parse(readFileSync(join(root, file), 'utf8')) as Record<string, any>;

describe('app.yml (the GitHub App manifest for Probot\'s setup flow)', () => {
  it('leaves the webhook URL to Probot (it spreads app.yml over the manifest it builds)', () => {
    const manifest = readYaml('app.yml');

    expect(manifest).not.toHaveProperty('hook_attributes');
  });
});
