import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AGENT_NAME,
  BEAD_TRAILER,
  beadMarker,
  checkBeadId,
  checkConvoyId,
  checkMessageId,
  convoyMarker,
  findMarker,
  GITHUB_LOGIN,
  isBeadId,
  isConvoyId,
  looksLikeBeadId,
  parseBeadMarker,
  parseBeadTrailer,
  parseOnBehalfOf,
  onBehalfOfMarker,
  polecatTrailers,
  POLECAT_TRAILER,
  parsePolecatBranch,
  parsePolecatRunTitle,
  polecatBranch,
  polecatRunTitle,
  REPO,
  shortId,
} from '../../src/town/ids.js';
import { parseGtCommand } from '../../src/slack/parse-command.js';
import { expectGastownError } from './expect-error.js';

const none = () => false;
const hashBase36 = (seed: string) =>
  BigInt(`0x${createHash('sha256').update(seed).digest('hex')}`)
    .toString(36)
    .padStart(50, '0');

describe('shortId', () => {
  it('is the prefix plus the leading base36 characters of sha256(seed)', () => {
    expect(shortId('gt', 'seed-1', none, 0)).toBe(`gt-${hashBase36('seed-1').slice(0, 4)}`);
  });

  it('is stable for a seed and differs across seeds', () => {
    expect(shortId('gt', 'seed-1', none, 10)).toBe(shortId('gt', 'seed-1', none, 10));
    expect(shortId('gt', 'seed-1', none, 10)).not.toBe(shortId('gt', 'seed-2', none, 10));
  });

  it.each([
    [0, 4],
    [1, 4],
    [35, 4],
    [36, 4],
    [1_295, 4],
    [1_296, 5],
    [10_000, 5],
    [46_655, 5],
    [46_656, 6],
  ])('with population %i uses %i characters', (population, length) => {
    expect(shortId('gt', 'seed', none, population)).toMatch(new RegExp(`^gt-[0-9a-z]{${length}}$`));
  });

  it('grows by one character per collision until free', () => {
    const full = hashBase36('seed');
    const taken = new Set([`gt-${full.slice(0, 4)}`, `gt-${full.slice(0, 5)}`]);
    const asked: string[] = [];

    const id = shortId('gt', 'seed', (c) => (asked.push(c), taken.has(c)), 0);

    expect(id).toBe(`gt-${full.slice(0, 6)}`);
    expect(asked).toEqual([`gt-${full.slice(0, 4)}`, `gt-${full.slice(0, 5)}`, id]);
  });

  it('keeps growing past the length of one digest', () => {
    const id = shortId('gt', 'seed', (c) => c.length < 3 + 60, 0);

    expect(id).toMatch(/^gt-[0-9a-z]{60}$/);
    expect(id.slice(3, 53)).toBe(hashBase36('seed'));
  });

  it('refuses a bad prefix', () => {
    expectGastownError(() => shortId('G T', 'seed', none, 0), 'gastown_bad_input');
  });

  it('produces ids the id guards accept', () => {
    expect(isBeadId(shortId('gt', 's', none, 5))).toBe(true);
    expect(isConvoyId(shortId('cv', 's', none, 5))).toBe(true);
  });
});

describe('isBeadId / isConvoyId', () => {
  it.each([
    ['gt-1a2b', true],
    ['gt-1a2b3c', true],
    ['gt-1a2', false],
    ['gt-1A2B', false],
    ['cv-1a2b', false],
    ['xgt-1a2b', false],
    ['gt-1a2b ', false],
  ])('isBeadId(%j) is %s', (s, ok) => {
    expect(isBeadId(s)).toBe(ok);
  });

  it.each([
    ['cv-1a2b', true],
    ['cv-abc', false],
    ['gt-1a2b', false],
  ])('isConvoyId(%j) is %s', (s, ok) => {
    expect(isConvoyId(s)).toBe(ok);
  });
});

describe('identifiers: one pattern per thing, shared by every surface', () => {
  it('builds and parses polecat branches, trailers, markers and run titles', () => {
    expect(parsePolecatBranch(polecatBranch('nux', 'gt-1a2b'))).toEqual({ polecat: 'nux', bead: 'gt-1a2b' });
    expect(parsePolecatBranch('polecat/nux/gt-1a2')).toBeNull();
    expect(parsePolecatBranch('feature/gt-1a2b')).toBeNull();
    expect(parseBeadTrailer(`Fix it\n\n${BEAD_TRAILER}: gt-9z8y\n`)).toBe('gt-9z8y');
    expect(parseBeadTrailer('Gastown-Bead: nope')).toBeNull();
    expect(parseBeadMarker(`text\n${beadMarker('gt-1a2b')}`)).toBe('gt-1a2b');
    expect(findMarker(`x ${convoyMarker('cv-1a2b')} y`)).toBe(convoyMarker('cv-1a2b'));
    expect(parsePolecatRunTitle(polecatRunTitle('gt-1a2b'))).toBe('gt-1a2b');
    expect(parsePolecatRunTitle('gastown-polecat main')).toBeNull();
    expect(parsePolecatRunTitle(42)).toBeNull();
  });

  it('a short id is refused alike by the rig and by Slack (they used to disagree)', () => {
    expect(() => checkBeadId('gt-1a2')).toThrow(/not a bead id/);
    expect(parseGtCommand('sling gt-1a2')).toMatchObject({ kind: 'invalid' });
    expect(checkBeadId('gt-1a2b')).toBe('gt-1a2b');
    expect(parseGtCommand('sling gt-1a2b')).toMatchObject({ kind: 'sling', bead: 'gt-1a2b' });
  });

  it('a 3-character convoy id is refused by every command, as by the parser (the rig used to take it)', () => {
    expect(() => checkConvoyId('cv-abc')).toThrow(/not a convoy id/);
    expect(checkConvoyId('cv-1a2b')).toBe('cv-1a2b');
    expect(() => checkMessageId('m-')).toThrow(/not a message id/);
    expect(checkMessageId('m-1a2b')).toBe('m-1a2b');
  });

  it('trailers of a polecat commit and the on-behalf-of marker round-trip', () => {
    expect(polecatTrailers('gt-1a2b', 'nux')).toEqual({ [BEAD_TRAILER]: 'gt-1a2b', [POLECAT_TRAILER]: 'nux' });
    expect(parseOnBehalfOf(`Please\n${onBehalfOfMarker('octo-cat')}`)).toBe('octo-cat');
    expect(parseOnBehalfOf('<!-- gastown:on-behalf-of -bad -->')).toBeNull();
    expect(parseOnBehalfOf(null)).toBeNull();
  });

  it('agent names and logins', () => {
    expect(AGENT_NAME.test('furiosa-2')).toBe(true);
    expect(AGENT_NAME.test('-x')).toBe(false);
    expect(GITHUB_LOGIN.test('octo-cat')).toBe(true);
    expect(GITHUB_LOGIN.test('a'.repeat(40))).toBe(false);
    expect(REPO.test('acme/web.site')).toBe(true);
    expect(REPO.test('acme')).toBe(false);
    expect(looksLikeBeadId('gt-1')).toBe(true);
  });
});
