/** A two-bead goal for the checklist planner: the second waits on the first (two waves). */
export const GREETINGS_GOAL = `# Greetings

- [ ] Write hello
  \`\`\`sh
  echo hello > hello.txt
  \`\`\`
- [ ] Write world after hello (after 1)
  \`\`\`sh
  test -f hello.txt && echo world > world.txt
  \`\`\`
`;
