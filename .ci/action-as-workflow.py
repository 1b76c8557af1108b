"""Print a composite action's steps (action.yml) as a reusable workflow.

actionlint checks workflows, not action metadata. The steps of a composite action are workflow
steps, so wrapped in a `workflow_call` job they get the same checks: expressions and the
contexts they use (`inputs.*` are the action's inputs), `uses:` references, and, through
shellcheck, every `run:` script. Line numbers in its findings refer to this printed workflow.
"""

import sys

import yaml


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        action = yaml.safe_load(f)
    runs = action["runs"]
    if runs.get("using") != "composite":
        sys.exit(f"{path}: not a composite action (runs.using is {runs.get('using')!r})")
    inputs = {name: {"type": "string", "required": False} for name in action.get("inputs") or {}}
    workflow = {
        "name": f"{path} as a workflow",
        "on": {"workflow_call": {"inputs": inputs}},
        "permissions": {},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": runs["steps"]}},
    }
    yaml.safe_dump(workflow, sys.stdout, sort_keys=False, width=100)


if __name__ == "__main__":
    main(sys.argv[1])
