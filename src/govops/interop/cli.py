"""`govops mapping ...`, `govops template ...`, `govops dhis2 ...`: the formats other systems speak."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from govops.audit.service import record_cli
from govops.commandline import writing_session

mapping_app = typer.Typer(help="Mappings of SDMX series keys and DHIS2 uids to govops codes.", no_args_is_help=True)
template_app = typer.Typer(help="Excel reporting templates.", no_args_is_help=True)
dhis2_app = typer.Typer(help="DHIS2: a catalogue and a mapping from DHIS2 metadata.", no_args_is_help=True)
out = Console()


def _read(path: Path) -> str:
    from govops.errors import GovopsError

    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GovopsError(f"cannot read {path}: {exc}", code="unreadable_file", where=str(path)) from None


@mapping_app.command("put")
def put(
    name: Annotated[str, typer.Argument(help="the mapping's name, e.g. ecb-exr")],
    file: Annotated[Path, typer.Argument(help="the mapping in YAML")],
    kind: Annotated[str, typer.Option(help="sdmx or dhis2")] = "sdmx",
    structure: Annotated[Path | None, typer.Option(help="an SDMX structure message to keep beside it")] = None,
) -> None:
    """Store (or replace) a mapping; it is checked first, and nothing is stored if it does not read."""
    from govops.interop.mapping.service import save_mapping

    with writing_session() as session:
        text = _read(file)
        extra = _read(structure) if structure is not None else None
        found = save_mapping(session=session, name=name, kind=kind, text=text, structure=extra, by="cli")
        record_cli(session=session, action="mapping.save", target=name, detail={"kind": kind})
    out.print(f"mapping {found.name} ({found.kind}) saved; submit with ?mapping={found.name}")


@mapping_app.command("list")
def list_() -> None:
    """The stored mappings."""
    from govops.interop.mapping.service import list_mappings

    with writing_session() as session:
        table = Table("name", "kind", "structure", "updated", "by")
        for m in list_mappings(session=session):
            table.add_row(m.name, m.kind, "yes" if m.structure else "-", f"{m.updated_at:%Y-%m-%d %H:%M}", m.updated_by)
        out.print(table)


@mapping_app.command("show")
def show(name: Annotated[str, typer.Argument(help="the mapping's name")]) -> None:
    """Print a mapping's YAML."""
    from govops.interop.mapping.service import get_mapping

    with writing_session() as session:
        out.print(get_mapping(session=session, name=name).text, highlight=False, markup=False)


@template_app.command("xlsx")
def xlsx(
    group: Annotated[str, typer.Option(help="indicator group, e.g. ENTERPRISES")],
    agency: Annotated[str, typer.Option(help="the reporting agency, e.g. PC-79 or MOF")],
    year: Annotated[int, typer.Option(help="the year whose periods the template asks for")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file to write (default: its own name)")] = None,
    wards: Annotated[bool, typer.Option(help="a province's wards too")] = False,
    lang: Annotated[str, typer.Option(help="vi or en")] = "vi",
) -> None:
    """Write the Excel reporting template of a group for an agency; filled in, it is submitted as it is."""
    from govops.interop.templates import template_workbook

    with writing_session() as session:
        body, name = template_workbook(
            session=session, group=group, agency=agency, year=year, wards=wards, lang="en" if lang == "en" else "vi"
        )
    path = output or Path(name)
    path.write_bytes(body)
    out.print(f"template written to {path} ({len(body):,} bytes)")


@dhis2_app.command("catalogue")
def catalogue(
    metadata: Annotated[Path, typer.Argument(help="DHIS2 metadata JSON (dataElements, dataSets, categoryCombos...)")],
    owner: Annotated[str, typer.Option(help="agency that owns the indicators, e.g. MOH")],
    unit: Annotated[str, typer.Option(help="unit code of the indicators, e.g. CASES")],
    group: Annotated[str, typer.Option(help="indicator group to put them in")],
    output: Annotated[Path, typer.Option("--output", "-o", help="catalogue YAML to write")] = Path("catalogue.yaml"),
    mapping_output: Annotated[Path, typer.Option(help="mapping YAML to write")] = Path("mapping.yaml"),
    org_unit: Annotated[list[str] | None, typer.Option(help="UID=AREA, e.g. O6uvpzGd5pu=79 (repeatable)")] = None,
) -> None:
    """Make a govops catalogue and a mapping from DHIS2 metadata; load them with `govops catalog import`
    and `govops mapping put NAME mapping.yaml --kind dhis2`."""
    import yaml

    from govops.commandline import friendly_errors
    from govops.errors import GovopsError
    from govops.interop.dhis2.metadata import catalogue_from_metadata

    with friendly_errors():
        units = {}
        for pair in org_unit or []:
            uid, sep, area = pair.partition("=")
            if not sep:
                raise GovopsError(f"--org-unit {pair!r} is not UID=AREA", code="invalid_option", hint="O6uvpzGd5pu=79")
            units[uid] = area
        try:
            raw = metadata.read_bytes()
        except OSError as exc:
            raise GovopsError(f"cannot read {metadata}: {exc.strerror}", code="unreadable_file") from None
        doc, mapping = catalogue_from_metadata(raw, owner=owner, unit=unit, group=group, org_units=units)
        output.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        mapping_output.write_text(mapping, encoding="utf-8")
    out.print(f"{len(doc.get('indicators', []))} indicators -> {output}; mapping -> {mapping_output}")
