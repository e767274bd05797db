// The arrows of docs/architecture.md ("Layers"), enforced by `npm run check:arrows`.
// Layers point inward: surfaces (cli, github, slack) call the service layer (rig) and the
// ports; rig calls town and ledger; town is pure. A rule here is the place to change when
// a new layer appears: a comment in the docs alone does not stop an arrow.
const layer = (name) => `^src/${name}/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'An import cycle makes load order matter and hides which layer owns what.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'town-is-pure',
      comment: 'town/ is the pure domain: zod and the pure helpers at src/ root only.',
      severity: 'error',
      from: { path: layer('town') },
      to: { path: '^src/', pathNot: ['^src/town/', '^src/(digest|errors|random-hex)\\.ts$'] },
    },
    {
      name: 'ledger-knows-no-domain',
      comment: 'ledger/ is a generic git-refs store; entity kinds are declared by their owners.',
      severity: 'error',
      from: { path: layer('ledger') },
      to: { path: '^src/', pathNot: ['^src/ledger/', '^src/(digest|errors|random-hex)\\.ts$'] },
    },
    {
      name: 'adapters-do-not-import-surfaces',
      comment: 'chat/ and forge/ adapters are called by surfaces, never the reverse.',
      severity: 'error',
      from: { path: '^src/(chat|forge)/' },
      to: { path: '^src/(cli|github|slack|app\\.ts|start-server\\.ts)' },
    },
    {
      name: 'slack-does-not-import-github',
      comment: 'Slack gets what it needs from GitHub by injection in app.ts.',
      severity: 'error',
      from: { path: layer('slack') },
      to: { path: layer('github') },
    },
    {
      name: 'github-does-not-import-slack',
      severity: 'error',
      from: { path: layer('github') },
      to: { path: layer('slack') },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'The CLI is a surface: nothing below it may depend on it.',
      severity: 'error',
      from: { path: '^src/', pathNot: layer('cli') },
      to: { path: layer('cli') },
    },
    {
      name: 'services-do-not-import-surfaces',
      comment: 'rig/, mayor/, polecat/, refinery/ and deacon/ are called by surfaces only.',
      severity: 'error',
      from: { path: '^src/(rig|mayor|polecat|refinery|deacon|model|config)/' },
      to: { path: '^src/(cli|github|slack|demo)/|^src/(app|start-server)\\.ts$' },
    },
    {
      name: 'rig-does-not-plan',
      comment: 'rig/ is the service layer; the planner (mayor/) is injected, not imported.',
      severity: 'error',
      from: { path: layer('rig') },
      to: { path: '^src/(mayor|polecat|refinery|deacon)/' },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.cjs', '.js'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
