"""Everything govops imports at run time is one of its runtime dependencies, so that a plain
`pip install govops` (no dev extras) starts the app and the command."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# Read in a fresh interpreter: Python 3.11's ast.parse keeps its recursion count per interpreter, not per thread,
# and raises "AST constructor recursion depth mismatch" when another thread of the test process parses at once.
_LIST_IMPORTS = """
import ast, json, sys
from pathlib import Path
found = set()
for path in Path(sys.argv[1]).rglob("*.py"):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
print(json.dumps(sorted(found)))
"""


def _imported_top_level_modules() -> set[str]:
    listed = subprocess.run(
        [sys.executable, "-c", _LIST_IMPORTS, str(ROOT / "src" / "govops")], capture_output=True, text=True, check=True
    )
    found = set(json.loads(listed.stdout))
    return found - set(sys.stdlib_module_names) - {"govops"}


def test_every_runtime_import_is_a_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_canonical(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}
    providers = importlib.metadata.packages_distributions()
    missing = {
        module: providers.get(module, ["?"])
        for module in sorted(_imported_top_level_modules())
        if not {_canonical(dist) for dist in providers.get(module, [])} & declared
    }
    assert not missing, f"imported by govops but not in [project] dependencies: {missing}"
