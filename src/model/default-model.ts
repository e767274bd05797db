/**
 * The model used when neither GASTOWN_MODEL nor `.github/gastown.yml` names one. Sonnet 4.5
 * reaches end-of-life on 2026-11-30 (the SDK warns); 4.6 is its successor at the same price.
 * A module of its own so config readers need not load the Anthropic SDK.
 */
export const DEFAULT_MODEL = 'claude-sonnet-4-6';
