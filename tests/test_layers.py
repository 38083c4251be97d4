"""The layers of DESIGN.md hold: every part of govops sits in a layer of the import contract, and no module
reaches into another's private names (`lint-imports`, run by `make test`, checks the contracts themselves)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import govops

SOURCE = Path(govops.__file__).parent
PYPROJECT = SOURCE.parents[1] / "pyproject.toml"


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    assert config["root_package"] == "govops"
    contracts: list[dict[str, object]] = config["contracts"]
    return contracts


def _layered() -> set[str]:
    (layers,) = [c for c in _contracts() if c["type"] == "layers"]
    assert isinstance(layers["layers"], list)
    return {
        name.strip().strip("()")
        for layer in layers["layers"]
        for name in layer.replace(":", "|").split("|")
        if not name.strip().startswith("(")
    }


def test_every_part_of_govops_sits_in_a_layer() -> None:
    parts = {
        f"govops.{path.stem if path.is_file() else path.name}"
        for path in SOURCE.iterdir()
        if (path.suffix == ".py" and path.stem not in ("__init__", "__main__"))
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert parts - _layered() == set(), "add the new package to a layer of [tool.importlinter] in pyproject.toml"
    assert _layered() - parts == set(), "a layer names a package that does not exist (mark a planned one optional)"


def test_pages_and_api_modules_are_protected() -> None:
    (protected,) = [c for c in _contracts() if c["type"] == "protected"]
    assert protected["allowed_importers"] == ["govops.app"]
    assert set(protected["protected_modules"]) == {"govops.**.api", "govops.**.pages"}  # type: ignore[arg-type]


def _private_imports(code: str, module: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("govops"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__") and node.module != module:
                    found.append(f"{module}:{node.lineno} imports {alias.name} from {node.module}")
    return found


def test_no_module_imports_a_private_name_of_another() -> None:
    found = [
        hit
        for path in sorted(SOURCE.rglob("*.py"))
        for hit in _private_imports(path.read_text(), ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts))
    ]
    assert found == [], "make the name public in a module meant for sharing (e.g. govops.commandline)"


def test_the_private_name_check_sees_a_private_import() -> None:
    # The check above can fail: a domain CLI borrowing the root command's private helper is caught, the module's
    # own names and dunders are not.
    code = (
        "from govops.cli.main import _init, app\n"
        "from govops.audit.cli import _friendly\n"
        "from govops import __version__\n"
    )
    assert _private_imports(code, "govops.audit.cli") == ["govops.audit.cli:1 imports _init from govops.cli.main"]


# What one domain may use of another: its service (the calls), schemas (what they take and give) and models (rows to
# join against). The shared parts below the domains are open to every domain.
DOMAIN_FACES = ("service", "schemas", "models")
# A domain's surfaces, put together above every domain: its routes and pages by the app factory, its command by the
# root command, its scheduled work by the assembly.
SURFACES = {"govops.app": ("api", "pages"), "govops.cli.main": ("cli",), "govops.assembly": ("jobs",)}


def _domains() -> list[str]:
    (layers,) = [c for c in _contracts() if c["type"] == "layers"]
    assert isinstance(layers["layers"], list)
    # The domains are the layers between the app factory (with the jobs' assembly and the demo) and the shared
    # web pieces.
    above_web = layers["layers"][: layers["layers"].index("govops.web")]
    domain_layers = [
        layer
        for layer in above_web
        if "govops.app" not in layer and layer not in ("govops.cli", "govops.assembly", "govops.demo")
    ]
    return [name.strip().strip("()") for layer in domain_layers for name in layer.split("|")]


# The parts above the domains that put them together: they register each domain's routes, commands, jobs and tables.
ASSEMBLERS = ("govops.app", "govops.cli", "govops.assembly", "govops.demo", "govops.tables")


def _internals_of_other_domains(code: str, module: str, domains: list[str]) -> list[str]:
    if any(module == a or module.startswith(a + ".") for a in ASSEMBLERS):
        return []
    own = next((d for d in domains if module == d or module.startswith(d + ".")), None)
    found = []
    for node in ast.walk(ast.parse(code)):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        for target in targets:
            for domain in domains:
                if domain == own or not target.startswith(domain + "."):
                    continue
                face = target.removeprefix(domain + ".").split(".")[0]
                allowed = (*DOMAIN_FACES, *SURFACES.get(module, ()))
                if face not in allowed and target.count(".") == domain.count(".") + 1:
                    found.append(f"{module}:{node.lineno} uses {target}")
    return sorted(set(found))


def test_a_domain_uses_another_only_through_its_service_schemas_and_models() -> None:
    domains = _domains()
    assert "govops.reporting" in domains and "govops.briefing" in domains
    found = [
        hit
        for path in sorted(SOURCE.rglob("*.py"))
        for hit in _internals_of_other_domains(
            path.read_text(), ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts), domains
        )
    ]
    assert found == [], "call the other domain's service (or read its schemas and models), not its internals"


def test_the_domain_check_sees_a_domain_reaching_into_another() -> None:
    domains = ["govops.reporting", "govops.tasks"]
    code = (
        "from govops.reporting import service\n"
        "from govops.reporting.schemas import Regime\n"
        "from govops.reporting.deadlines import next_deadline\n"
        "from govops.reporting import deadlines\n"
        "from govops.tasks.jobs import remind\n"
    )
    assert _internals_of_other_domains(code, "govops.tasks.service", domains) == [
        "govops.tasks.service:3 uses govops.reporting.deadlines",
        "govops.tasks.service:4 uses govops.reporting.deadlines",
    ]
