/**
 * The demo's sample project: "calc", a calculator in POSIX sh whose operations live one
 * per file (ops/<name>.sh), with a test runner the Refinery uses as its gate. Tiny on
 * purpose: the demo shows the town, not the project, and must run anywhere without network.
 */
export const SAMPLE_PROJECT: Record<string, string> = {
  'README.md': `# calc

A tiny calculator in POSIX sh. Each operation lives in \`ops/<name>.sh\` and defines
\`op_<name>\`; \`tests/<name>.cases\` holds lines \`op a b expected\`.

    sh calc.sh add 2 3
    sh test.sh
`,
  'calc.sh': `#!/bin/sh
# calc: sh calc.sh <op> <a> <b>
set -e
op=$1
[ -n "$op" ] || { echo "usage: calc.sh <op> <a> <b>" >&2; exit 2; }
shift
dir=$(dirname "$0")
[ -f "$dir/ops/$op.sh" ] || { echo "unknown operation: $op" >&2; exit 2; }
. "$dir/ops/$op.sh"
"op_$op" "$@"
`,
  'test.sh': `#!/bin/sh
# Runs every case in tests/*.cases (lines: op a b expected); the Refinery's gate.
fail=0
n=0
for f in tests/*.cases; do
  [ -f "$f" ] || continue
  while read -r op a b want; do
    [ -n "$op" ] || continue
    n=$((n + 1))
    got=$(sh calc.sh "$op" "$a" "$b" 2>&1) || got="error: $got"
    if [ "$got" != "$want" ]; then
      echo "FAIL $f: $op $a $b gave $got, want $want"
      fail=1
    fi
  done < "$f"
done
echo "$n cases"
exit $fail
`,
};

/** A fenced sh block for a checklist task (indented under its task line). */
function sh(lines: string): string {
  return ['```sh', ...lines.trim().split('\n'), '```'].map((l) => `  ${l}`).join('\n');
}

/**
 * The demo goal: five tasks with dependencies, each with fenced sh steps the script agent
 * runs (they really edit files, idempotently, so a resumed polecat can rerun them). Tasks
 * 1 to 3 start in parallel; 4 needs 1; 5 documents everything once 2, 3 and 4 are in.
 */
export const DEMO_GOAL = `# calc: more operations, tested and documented

Grow the calculator in \`calc.sh\`. Each operation goes in \`ops/<name>.sh\` with test cases
in \`tests/<name>.cases\`; \`sh test.sh\` must pass.

- [ ] Add the add operation
${sh(`
mkdir -p ops tests
printf 'op_add() { echo $(( $1 + $2 )); }\\n' > ops/add.sh
`)}
${sh(`
printf 'add 2 3 5\\nadd -4 4 0\\n' > tests/add.cases
`)}
${sh(`
sh test.sh
`)}
- [ ] Add the sub operation
${sh(`
mkdir -p ops tests
printf 'op_sub() { echo $(( $1 - $2 )); }\\n' > ops/sub.sh
`)}
${sh(`
printf 'sub 7 2 5\\nsub 2 7 -5\\n' > tests/sub.cases
`)}
${sh(`
sh test.sh
`)}
- [ ] Add the max operation
${sh(`
mkdir -p ops tests
printf 'op_max() { if [ "$1" -gt "$2" ]; then echo "$1"; else echo "$2"; fi; }\\n' > ops/max.sh
`)}
${sh(`
printf 'max 3 9 9\\nmax 9 3 9\\n' > tests/max.cases
`)}
${sh(`
sh test.sh
`)}
- [ ] Add mul as repeated add (after 1)
${sh(`
test -f ops/add.sh
cat > ops/mul.sh <<'OP'
. "$dir/ops/add.sh"
op_mul() { r=0; i=0; while [ "$i" -lt "$2" ]; do r=$(op_add "$r" "$1"); i=$((i + 1)); done; echo "$r"; }
OP
`)}
${sh(`
printf 'mul 6 7 42\\nmul 5 0 0\\n' > tests/mul.cases
`)}
${sh(`
sh test.sh
`)}
- [ ] Document every operation in the README (after 2, 3, 4)
${sh(`
for op in add sub max mul; do test -f "ops/$op.sh"; done
`)}
${sh(`
sed -i.bak '/^## Operations/,$d' README.md && rm -f README.md.bak
{
  echo '## Operations'
  echo
  for f in ops/*.sh; do n=$(basename "$f" .sh); echo "- \\\`$n\\\`: e.g. \\\`sh calc.sh $n $(head -n1 tests/$n.cases | cut -d' ' -f2-3)\\\`"; done
} >> README.md
`)}
${sh(`
sh test.sh
grep -q '^- \`mul\`' README.md
`)}
`;
