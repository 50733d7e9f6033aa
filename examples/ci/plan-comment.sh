#!/bin/sh
# Checks a conv program and posts its plan on the pull request as one comment, updated in
# place on every push. Run by conv-plan.yml; needs `conv` and GitHub's `gh` CLI on PATH.
#
#   DEPLOY_DIR   the program (default: deploy)
#   PR_NUMBER    the pull request
#   GITHUB_REPOSITORY, GH_TOKEN   as GitHub Actions sets them
#
# Leaves plan.md (the comment) and plan.json (the saved plan, to apply after merge).
set -eu
dir="${DEPLOY_DIR:-deploy}"
marker="<!-- conv-plan: $dir -->"

# The diagnostics, rendered, in the job's log; exit 1 on errors stops here.
conv check "$dir"

# 0: nothing to change, 4: changes; anything else is an error.
status=0
conv plan "$dir" --format markdown -o plan.json --detailed-exitcode > plan.body.md || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 4 ]; then
  exit "$status"
fi
{ echo "$marker"; cat plan.body.md; } > plan.md
rm plan.body.md

# One comment per program: update the one carrying the marker, or post it.
existing=$(gh api "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" --paginate \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)
if [ -n "$existing" ]; then
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$existing" -F body=@plan.md > /dev/null
  echo "updated the plan comment ($existing)"
else
  gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" -F body=@plan.md > /dev/null
  echo "posted the plan comment"
fi
