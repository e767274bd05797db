/** Probot pieces for the Slack-over-GitHub tests (shared with the GitHub tests). */
export { API, privateKey, silentLog, TestOctokit } from '../helpers/probot-test.js';
