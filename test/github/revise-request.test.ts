import { describe, expect, it } from 'vitest';
import { mentions, revisionAsk, writerByAssociation } from '../../src/github/revise-request.js';

describe('revisionAsk (what a comment on a polecat PR asks for)', () => {
  it('takes /gt revise on the first line, with the lines after it', () => {
    expect(revisionAsk('\n/gt revise rename foo\nand add a test', null)).toBe('rename foo\nand add a test');
    expect(revisionAsk('/GT Revise', null)).toBe('Please revise.');
    expect(revisionAsk('looks good\n/gt revise now', null)).toBeNull();
    expect(revisionAsk('/gt revised', null)).toBeNull();
  });

  it('takes a mention of the app anywhere, and only a real mention', () => {
    expect(revisionAsk('Thanks! @gastown please handle the empty case.', 'gastown')).toBe('Thanks! @gastown please handle the empty case.');
    expect(revisionAsk('mail me at me@gastown.dev', 'gastown')).toBeNull();
    expect(revisionAsk('@gastown-other do it', 'gastown')).toBeNull();
    expect(revisionAsk('ping @gastown', null)).toBeNull();
    expect(mentions('(@GasTown)', 'gastown')).toBe(true);
  });

  it('settles writers by association only where it can', () => {
    expect(writerByAssociation('OWNER')).toBe(true);
    expect(writerByAssociation('NONE')).toBe(false);
    expect(writerByAssociation('FIRST_TIME_CONTRIBUTOR')).toBe(false);
    expect(writerByAssociation('COLLABORATOR')).toBeNull();
    expect(writerByAssociation('MEMBER')).toBeNull();
    expect(writerByAssociation(undefined)).toBeNull();
  });
});
