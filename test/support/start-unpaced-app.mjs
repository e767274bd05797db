// The app as bin/start.js starts it when it has credentials (the compiled app under
// dist/start-server.js, with the request guards), with one difference for tests and benches:
// Probot's write pacing is taken out. Probot's Octokit spaces writes 1 s apart and
// notification-making creations 3 s apart, which is most of a test's time and none of the
// app's work. Everything else of GastownOctokit stays: retries of server errors, and a
// secondary rate limit waited out (`retry-after`) and tried again.
import Bottleneck from 'bottleneck/light.js';

const dist = new URL('../../dist/', import.meta.url);
const { default: app, checkSettings, GastownOctokit } = await import(new URL('app.js', dist).href);
const { startServer } = await import(new URL('start-server.js', dist).href);

try {
  checkSettings(process.env);
} catch (err) {
  console.error(`gastown: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
// One write at a time, as Probot's groups allow, but no minimum time between two.
const group = (id) => new Bottleneck.Group({ id, maxConcurrent: 1, minTime: 0 });
const unpaced = { write: group('gastown-unpaced-write'), notifications: group('gastown-unpaced-notifications') };
const Octokit = GastownOctokit.defaults((options) => ({ ...options, throttle: { ...options.throttle, ...unpaced } }));
// A bench that profiles the app (bench:github-loop --cpu-prof) stops it
// with SIGTERM: exit normally then, so node writes the profile.
if (process.execArgv.includes('--cpu-prof')) process.on('SIGTERM', () => process.exit(0));
await startServer(app, { env: process.env, Octokit });
