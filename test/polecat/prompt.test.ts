import { describe, expect, it } from 'vitest';
import { beadPrompt } from '../../src/polecat/prompt.js';

describe('beadPrompt', () => {
  it('carries the bead, its acceptance criteria and files, and the commit/push rules', () => {
    const prompt = beadPrompt({
      beadId: 'gt-abcd',
      title: 'Add a greeting',
      body: 'Create src/greeting.ts exporting greet().',
      acceptance: ['greet() returns "hello"', 'tests pass'],
      files: ['src/greeting.ts'],
    });

    expect(prompt).toContain('bead gt-abcd: Add a greeting');
    expect(prompt).toContain('<<<BEAD\nCreate src/greeting.ts exporting greet().\nBEAD>>>');
    expect(prompt).toContain('Acceptance criteria:\n- greet() returns "hello"\n- tests pass');
    expect(prompt).toContain('Files likely involved:\n- src/greeting.ts');
    expect(prompt).toContain('Commit nothing yourself; the runner commits');
    expect(prompt).toContain('Do not push');
  });

  it('says so when there are no criteria or files', () => {
    const prompt = beadPrompt({ beadId: 'gt-1', title: 't', body: 'b', acceptance: [], files: [] });

    expect(prompt).toContain('Acceptance criteria:\n- (none given');
    expect(prompt).toContain('Files likely involved:\n- (not specified)');
  });
});
